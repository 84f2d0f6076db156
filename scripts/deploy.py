"""Deploy the tradefin contracts (registry, USD/CNY/EUR settlement tokens, instruments) once per chain.

    ape run deploy platform --network ethereum:local:node [--account TEST::0] [--redeploy] [--yes]

Reuses the deployment recorded for the chain id (`.data/deployments/<chain_id>.json`) when all of it still has
code and was built from the contracts compiled now; deploys everything from the operator account and records
the addresses (with the build fingerprint) when none is there. A chain holding a deployment of another build is
refused, naming what changed: `--redeploy` deploys the current build next to it, `make reset` starts a local
devnet afresh. On a network that is not local it asks for confirmation first (skip with `--yes`) and needs
`--account`.
Exit codes: 0 done, 1 refused, reverted (the contract's custom error is printed) or stale, 2 usage error.
"""

from __future__ import annotations

import sys

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context
from ape.exceptions import ApeException

from scripts._devnet import RESET_COMMAND, StaleDeployment, ensure_platform


@click.group()
def cli() -> None:
    """Deploy the tradefin platform."""


@cli.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option(prompt=False)
@click.option("--redeploy", is_flag=True, help="Deploy a new platform even if one is recorded for this chain.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation on a non-local network.")
def platform(cli_ctx, network, account, redeploy: bool, yes: bool) -> None:
    """Deploy the platform unless this chain already has it."""
    from ape import accounts, chain, project

    local = network.is_local
    if account is None:
        if not local:
            raise click.UsageError("--account is required on a non-local network")
        account = accounts.test_accounts[0]
    if not local and not yes:
        click.confirm(f"Deploy tradefin to {network.choice} (chain id {chain.chain_id}) from {account.address}?",
                      abort=True)
    try:
        state = ensure_platform(project, chain, account, redeploy=redeploy)
    except StaleDeployment as exc:
        click.echo(f"stale deployment on chain {chain.chain_id}: the recorded contracts were built from other "
                   f"code ({exc.record_path}):", err=True)
        for change in exc.changes:
            click.echo(f"  {change}", err=True)
        click.echo(f"deploy the current build next to it with --redeploy, or start a local devnet afresh with "
                   f"`{RESET_COMMAND}`", err=True)
        sys.exit(1)
    except ApeException as exc:
        click.echo(f"refused: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    verb = "deployed" if state.deployed else "already deployed"
    click.echo(f"tradefin {verb} on chain {chain.chain_id} ({state.reason})")
    for name, address in state.platform.addresses().items():
        click.echo(f"  {name:<24} {address}")
