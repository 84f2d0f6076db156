"""Register the demo world of DESIGN §1 on a deployed chain, KYC its corporates and fund them.

    ape run bootstrap demo --network ethereum:local:node

Needs the chain's recorded deployment (`ape run deploy platform` or `make run`) and the test mnemonic's
accounts, so it runs on local networks only. Idempotent: only what is missing is registered, attested or minted.
Exit codes: 0 done, 1 no deployment (or a stale one) or a transaction refused (the contract's custom error is printed), 2 usage.
"""

from __future__ import annotations

import sys

import click
from ape.cli import ConnectedProviderCommand, ape_cli_context
from ape.exceptions import ApeException

from scripts._common import accounts_by_role
from scripts._devnet import RESET_COMMAND, StaleDeployment, attach_recorded, bootstrap_demo, demo_roles


@click.group()
def cli() -> None:
    """Bootstrap the tradefin demo world."""


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
def demo(cli_ctx, network) -> None:
    """Register, KYC and fund the demo participants that are not yet in place."""
    from ape import accounts, chain, project

    if not network.is_local:
        raise click.UsageError("the demo world uses the test mnemonic's accounts: local networks only")
    remedy = "run `ape run deploy platform` first"
    try:
        deployed, reason = attach_recorded(project, chain)
    except StaleDeployment as exc:
        deployed, reason = None, f"the recorded contracts were built from other code ({'; '.join(exc.changes)})"
        remedy = f"run `ape run deploy platform --redeploy`, or start afresh with `{RESET_COMMAND}`"
    if deployed is None:
        click.echo(f"no usable deployment on chain {chain.chain_id}: {reason}; {remedy}", err=True)
        sys.exit(1)
    roles = accounts_by_role(accounts.test_accounts)
    try:
        report = bootstrap_demo(deployed, roles, chain)
    except ApeException as exc:
        click.echo(f"refused: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    if not report.changed:
        click.echo("demo world already in place")
    for label, items in (("registered", report.registered), ("KYC attested", report.kyc_attested),
                         ("funded", report.funded)):
        if items:
            click.echo(f"{label}: {', '.join(items)}")
    for role, account in demo_roles(roles).items():
        click.echo(f"  {role:<12} {account.address}")
