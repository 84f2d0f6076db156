"""Payable certificates from the bank's and the corporate's side: offer, accept, inspect, discount, settle.

    ape run certificates offer 0xINVOICE --amount 50000000 --maturity 1767225600 --account importer [--yes]
    ape run certificates show-offer 0xINVOICE
    ape run certificates accept-offer 0xINVOICE --account exporter [--yes]
    ape run certificates decline-offer 0xINVOICE --account exporter
    ape run certificates withdraw-offer 0xINVOICE --account importer
    ape run certificates show 7
    ape run certificates request-discount 7 --account supplier3 --bank 0x... --rate-bps 600
    ape run certificates discount 7 --account bank_cn --rate-bps 600 [--yes]
    ape run certificates settle 5 6 7 --account importer [--yes]

A certificate is issued in two steps: the core enterprise (the invoice's buyer) `offer`s it, and its
supplier (the invoice's seller) `accept-offer`s it, consenting to pledge the invoice to the certificate tree
(its lien); until then nothing is pledged, and either side may close the offer (`decline-offer`,
`withdraw-offer`). Invoice ids are the registry's uint256 ids, in hex (`0x...`) or decimal.

`discount` (the bank) pays the holder the discounted amount and takes the certificate; `settle` (the
core enterprise, or a holder pulling its own) pays matured certificates. Both approve the certificate
contract for exactly what is missing of the allowance, after confirmation. Exit codes: 0 done,
1 refused (a contract reverted: the custom error's name is printed; or confirmation declined),
2 usage error (bad arguments, an unknown invoice or certificate, no deployment recorded).
"""

from __future__ import annotations

from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option
from ape.exceptions import ContractLogicError

from app.core.enums import CertificateState, InvoiceState, name_of
from scripts._cli import EXIT_REFUSED, fail_usage, load_contracts, print_json, refuse

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"



class InvoiceId(click.ParamType):
    """An invoice id of the registry: a uint256, in hex (`0x...`) or decimal."""

    name = "invoice_id"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        try:
            number = int(str(value), 0)
        except ValueError:
            self.fail(f"{value!r} is not an invoice id (hex 0x... or decimal)", param, ctx)
        if not 0 < number < 2**256:
            self.fail(f"{value!r} is out of the uint256 range", param, ctx)
        return number


INVOICE_ID = InvoiceId()


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
        "state": name_of(CertificateState, view.state),
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


def _invoice(contracts: dict[str, Any], invoice_id: int) -> Any:
    """The registry's view of `invoice_id`; a usage error when no such invoice is registered."""
    invoices = contracts.get("InvoiceRegistry")
    if invoices is None:
        fail_usage("InvoiceRegistry is not deployed on this chain")
    view = invoices.invoice(invoice_id)
    if view.buyer == ZERO_ADDRESS:
        fail_usage(f"unknown invoice {hex(invoice_id)}")
    return view


def _pending(offer: Any) -> bool:
    """An offer awaits its seller: it has an amount and no tree yet (an accepted one names its root)."""
    return offer.amount != 0 and offer.rootId == 0


def _describe_offer(certs: Any, invoice_id: int, invoice: Any) -> dict[str, Any]:
    offer = certs.offerOf(invoice_id)
    return {
        "invoiceId": hex(invoice_id),
        "pending": _pending(offer),
        "issuer": invoice.buyer,
        "seller": invoice.seller,
        "amount": offer.amount,
        "maturity": offer.maturity,
        "invoiceState": name_of(InvoiceState, invoice.state),
        "unpaid": invoice.faceAmount - invoice.paidAmount,
        "dueDate": invoice.dueDate,
        "rootId": certs.rootOfInvoice(invoice_id),
    }


@click.group()
def cli() -> None:
    """Payable certificates: offer and accept, show, request a discount, discount (bank), settle."""


# ───────────────────────────── Offers: the buyer proposes, its supplier consents ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.argument("invoice_id", type=INVOICE_ID)
@click.option("--amount", type=click.IntRange(min=1), required=True, help="Minor units, at most what is unpaid.")
@click.option("--maturity", type=click.IntRange(min=1), required=True,
              help="Unix time, after now and no later than the invoice's due date.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def offer(provider, account, invoice_id, amount, maturity, yes) -> None:
    """The invoice's buyer offers its seller a certificate; nothing is pledged until the seller accepts."""
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    invoice = _invoice(contracts, invoice_id)
    if not yes:
        click.confirm(f"Offer {invoice.seller} a certificate of {amount} minor units due at {maturity} "
                      f"against invoice {hex(invoice_id)}?", abort=True)
    try:
        certs.offer(invoice_id, amount, maturity, sender=account)
    except ContractLogicError as err:
        refuse(err)
    click.echo(f"offered: invoice {hex(invoice_id)}, {amount} minor units due at {maturity}; "
               f"awaiting {invoice.seller}")


@cli.command("show-offer", cls=ConnectedProviderCommand)
@click.argument("invoice_id", type=INVOICE_ID)
def show_offer(provider, invoice_id) -> None:
    """Print the certificate offered on an invoice (if any) and the invoice's standing, as JSON."""
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    print_json(_describe_offer(certs, invoice_id, _invoice(contracts, invoice_id)))


@cli.command("accept-offer", cls=ConnectedProviderCommand)
@account_option()
@click.argument("invoice_id", type=INVOICE_ID)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def accept_offer(provider, account, invoice_id, yes) -> None:
    """The invoice's seller accepts the offered certificate and pledges the invoice to it (the lien)."""
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    invoice = _invoice(contracts, invoice_id)
    terms = certs.offerOf(invoice_id)
    if not _pending(terms):
        click.echo(f"refused: no certificate is offered on invoice {hex(invoice_id)}", err=True)
        raise SystemExit(EXIT_REFUSED)
    click.echo(f"offer on invoice {hex(invoice_id)}: {terms.amount} minor units from {invoice.buyer}, "
               f"due at {terms.maturity} (invoice unpaid: {invoice.faceAmount - invoice.paidAmount})")
    if not yes:
        click.confirm("Accept, and pledge the invoice to the certificate tree until it is paid?", abort=True)
    try:
        receipt = certs.acceptOffer(invoice_id, sender=account)
    except ContractLogicError as err:
        refuse(err)
    [issued] = certs.CertificateIssued.from_receipt(receipt)
    click.echo(f"accepted: certificate {issued.certificateId} of {issued.amount} minor units held by "
               f"{issued.holder}; invoice {hex(invoice_id)} pledged to it (tx {receipt.txn_hash})")


@cli.command("decline-offer", cls=ConnectedProviderCommand)
@account_option()
@click.argument("invoice_id", type=INVOICE_ID)
def decline_offer(provider, account, invoice_id) -> None:
    """The invoice's seller declines the offered certificate."""
    _close_offer(account, invoice_id, "declineOffer", "declined")


@cli.command("withdraw-offer", cls=ConnectedProviderCommand)
@account_option()
@click.argument("invoice_id", type=INVOICE_ID)
def withdraw_offer(provider, account, invoice_id) -> None:
    """The invoice's buyer withdraws its offer."""
    _close_offer(account, invoice_id, "withdrawOffer", "withdrawn")


def _close_offer(account: Any, invoice_id: int, method: str, outcome: str) -> None:
    from ape import chain

    certs, contracts = _certificates(chain.chain_id)
    _invoice(contracts, invoice_id)
    try:
        getattr(certs, method)(invoice_id, sender=account)
    except ContractLogicError as err:
        refuse(err)
    click.echo(f"{outcome}: the offer on invoice {hex(invoice_id)}")


# ───────────────────────────── Certificates ─────────────────────────────


@cli.command(cls=ConnectedProviderCommand)
@click.argument("certificate_id", type=click.IntRange(min=1))
def show(provider, certificate_id) -> None:
    """Print a certificate and its state as JSON."""
    from ape import chain

    certs, _ = _certificates(chain.chain_id)
    view = certs.certificate(certificate_id)
    if view.state == CertificateState["None"]:
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
    active = view.state == CertificateState.Active
    proceeds, days = certs.discountProceeds(view.amount, view.maturity, rate_bps) if active else (0, 0)
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
        state = name_of(CertificateState, view.state)
        click.echo(f"certificate {view.certificateId}: {view.amount} to {view.holder} ({state})")
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
