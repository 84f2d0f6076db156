"""Payable certificates from the bank's and the corporate's side: inspect, discount, settle.

    ape run certificates show 7
    ape run certificates request-discount 7 --account supplier3 --bank 0x... --rate-bps 600
    ape run certificates discount 7 --account bank_cn --rate-bps 600 [--yes]
    ape run certificates settle 5 6 7 --account importer [--yes]

`discount` (the bank) pays the holder the discounted amount and takes the certificate; `settle` (the
core enterprise, or a holder pulling its own) pays matured certificates. Both approve the certificate
contract for exactly what is missing of the allowance, after confirmation. Exit codes: 0 done,
1 refused (a contract reverted: the custom error's name is printed; or confirmation declined),
2 usage error.
"""

from __future__ import annotations

from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option
from ape.exceptions import ContractLogicError

from scripts._cli import load_contracts, print_json, refuse

STATES = ("None", "Active", "Split", "Due", "Defaulted", "Settled")


def _certificates(chain_id: int) -> tuple[Any, dict[str, Any]]:
    contracts = load_contracts(chain_id, ("PayableCertificates",))
    return contracts["PayableCertificates"], contracts


def _describe(view: Any) -> dict[str, Any]:
    return {
        "certificateId": view.certificateId,
        "rootId": view.rootId,
        "parentId": view.parentId,
        "holder": view.holder,
        "amount": view.amount,
        "state": STATES[view.state],
        "issuer": view.issuer,
        "currency": view.currency,
        "maturity": view.maturity,
        "invoiceId": hex(view.invoiceId),
    }


def _ensure_allowance(token: Any, owner: Any, spender: str, amount: int, yes: bool) -> None:
    missing = amount - token.allowance(owner.address, spender)
    if missing <= 0:
        return
    if not yes:
        click.confirm(f"Approve the certificate contract for {missing} more minor units?", abort=True)
    token.approve(spender, token.allowance(owner.address, spender) + missing, sender=owner)


@click.group()
def cli() -> None:
    """Payable certificates: show, request a discount, discount (bank), settle at maturity."""


@cli.command(cls=ConnectedProviderCommand)
@click.argument("certificate_id", type=click.IntRange(min=1))
def show(provider, certificate_id) -> None:
    """Print a certificate and its state as JSON."""
    from ape import chain

    certs, _ = _certificates(chain.chain_id)
    view = certs.certificate(certificate_id)
    if view.state == 0:
        click.echo(f"error: unknown certificate {certificate_id}", err=True)
        raise SystemExit(2)
    print_json(_describe(view))


@cli.command("request-discount", cls=ConnectedProviderCommand)
@account_option()
@click.argument("certificate_id", type=click.IntRange(min=1))
@click.option("--bank", required=True, help="The bank asked to discount.")
@click.option("--rate-bps", type=click.IntRange(1, 10_000), required=True, help="Annual rate, basis points.")
def request_discount(provider, account, certificate_id, bank, rate_bps) -> None:
    """The holder asks a bank to discount a certificate at an annual rate."""
    from ape import chain

    certs, _ = _certificates(chain.chain_id)
    view = certs.certificate(certificate_id)
    proceeds, days = certs.discountProceeds(view.amount, view.maturity, rate_bps) if view.state == 1 else (0, 0)
    try:
        certs.requestDiscount(certificate_id, bank, rate_bps, sender=account)
    except ContractLogicError as err:
        refuse(err)
    click.echo(f"requested: certificate {certificate_id} at {bank}, {rate_bps} bps "
               f"(about {proceeds} of {view.amount} minor units, {days} days to maturity)")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("certificate_id", type=click.IntRange(min=1))
@click.option("--rate-bps", type=click.IntRange(1, 10_000), required=True, help="The rate the holder asked.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def discount(provider, account, certificate_id, rate_bps, yes) -> None:
    """The bank discounts a certificate at the holder's request: pays the proceeds, becomes holder."""
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    view = certs.certificate(certificate_id)
    try:
        proceeds, days = certs.discountProceeds(view.amount, view.maturity, rate_bps)
    except ContractLogicError as err:
        refuse(err)
    click.echo(f"certificate {certificate_id}: {view.amount} minor units due in {days} days; "
               f"proceeds at {rate_bps} bps: {proceeds}")
    if not yes:
        click.confirm(f"Pay {proceeds} to {view.holder} and take the certificate?", abort=True)
    token = next((c for c in contracts.values() if c.address == view.currency), None)
    if token is not None:
        _ensure_allowance(token, account, certs.address, proceeds, yes=True)
    try:
        receipt = certs.acceptDiscount(certificate_id, rate_bps, sender=account)
    except ContractLogicError as err:
        refuse(err)
    [event] = certs.CertificateDiscounted.from_receipt(receipt)
    click.echo(f"discounted: certificate {certificate_id} paid {event.proceeds} to {event.seller}; "
               f"holder is now {account.address} (tx {receipt.txn_hash})")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("certificate_ids", nargs=-1, required=True, type=click.IntRange(min=1))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def settle(provider, account, certificate_ids, yes) -> None:
    """Pay matured certificates (the core enterprise), or pull one's own (a holder)."""
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    views = [certs.certificate(cid) for cid in certificate_ids]
    total = sum(v.amount for v in views)
    for view in views:
        click.echo(f"certificate {view.certificateId}: {view.amount} to {view.holder} ({STATES[view.state]})")
    if not yes:
        click.confirm(f"Settle {len(views)} certificate(s), {total} minor units in all?", abort=True)
    paying_ourselves = all(v.issuer == account.address for v in views)
    token = next((c for c in contracts.values() if views and c.address == views[0].currency), None)
    if paying_ourselves and token is not None:
        _ensure_allowance(token, account, certs.address, total, yes=True)
    try:
        receipt = certs.settle(list(certificate_ids), sender=account)
    except ContractLogicError as err:
        refuse(err)
    for event in certs.CertificateSettled.from_receipt(receipt):
        click.echo(f"settled: certificate {event.certificateId} paid {event.amount} to {event.holder}")
    for event in certs.CertificateTreePaid.from_receipt(receipt):
        click.echo(f"tree {event.rootId} paid in full; invoice lien released")
