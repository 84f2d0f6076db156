"""Payable certificates (DESIGN §7): a core enterprise offers a certificate against its confirmed invoice and
the invoice's seller accepts it (the seller consents to the lien: nobody pledges another's receivable) or
declines it; holders transfer, split and ask banks to discount; banks discount; the core enterprise settles at
maturity.

The gateway checks the caller's participant kind (only corporates offer and accept, only banks discount); the
contract checks that the caller is the holder, the invoice's buyer or seller, or the requested bank. Money moves
with `transferFromWithPurpose`: the discounting bank and the settling core enterprise approve
`PayableCertificates` beforehand (`POST /v1/approvals`).

Who may take a step is checked by the gateway before anything about the certificate is looked at (the contract
checks a certificate's state before its holder, and names the holder, the buyer or the seller in its refusals), so
the steps are no existence oracle: a caller that is not the party a step needs answers 403 with the same body
whether or not the invoice or certificate exists, naming nobody but the caller:

| step | party | refusal |
|---|---|---|
| offer, withdraw an offer | the invoice's buyer | `PayableCertificatesNotInvoiceBuyer` |
| accept, decline an offer | the invoice's seller (current owner) | `PayableCertificatesNotInvoiceSeller` |
| transfer, split, request a discount | the certificate's holder | `PayableCertificatesNotHolder` |
| discount | the bank the holder asked | `PayableCertificatesNotRequestedBank` |
| settle | per certificate, its holder or its tree's core enterprise | `PayableCertificatesNotSettlementParty` |

Cancelling a discount request is keyed by the caller on chain (a caller with no request of its own is answered
409 `PayableCertificatesNoDiscountRequest` whether or not the certificate exists). Recording a tree's default is
open to every participant on chain, but the gateway records it only for a party of the tree (its core enterprise,
the invoice's seller, a holder of any of its certificates as far as the index knows): anyone else is answered 403
`PayableCertificatesNotTreeParty` before anything is sent, as for an unknown tree (a record that went through would
tell it the tree's invoice and what is outstanding). A repeated Idempotency-Key of the very same request replays
its answer (`refuse`).
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import ParticipantKind
from app.core.errors import Forbidden
from app.db.index_models import Instrument, InstrumentParty
from app.schemas.certificates import (
    CertificateDiscounted,
    CertificateIssued,
    CertificateOfferClosed,
    CertificateOfferCreate,
    CertificateOffered,
    CertificateSettlement,
    CertificateSplit,
    CertificateSplitResult,
    CertificatesSettled,
    CertificateTransfer,
    CertificateTransferred,
    DiscountAcceptance,
    DiscountRequestCancelled,
    DiscountRequestCreate,
    DiscountRequested,
    TreeDefaulted,
)
from app.services.base import (
    Gateway,
    WriteContext,
    is_party,
    refuse,
    require_kind,
    submit,
)
from app.services.index_queries import viewer
from app.services.results import register_result

CONTRACT = "PayableCertificates"
CORPORATE, BANK = ParticipantKind.Corporate, ParticipantKind.Bank
HOLDERS = (CORPORATE, BANK)  # a bank holds what it discounted


async def _send(gateway: Gateway, ctx: WriteContext, function: str, *args: Any, operation: str,
                payload: dict[str, Any], **context: Any) -> WriteAnswer:
    return await submit(gateway, ctx, gateway.call(CONTRACT, function, *args, operation=operation, **context),
                        payload)


def _refusal(what: str, details: dict[str, Any], code: str) -> Forbidden:
    return Forbidden(f"only {what} may take this step; the gateway tells no one else anything about it", details,
                     code=code)


async def _require_invoice_party(gateway: Gateway, ctx: WriteContext, invoice_id: int, role: str,
                                 payload: dict[str, Any]) -> None:
    """The caller is the invoice's `role` ("buyer" or "seller"); else 403, the same whether or not it exists."""
    (view,) = await gateway.read("InvoiceRegistry", "invoice", invoice_id)
    if is_party(ctx.caller, view[1] if role == "buyer" else view[0]):
        return
    who = "the buyer" if role == "buyer" else "the seller (current owner)"
    await refuse(gateway, ctx, _refusal(f"{who} of invoice {invoice_id}", {"invoice_id": str(invoice_id),
                 "caller": ctx.caller.address},
                 "PayableCertificatesNotInvoiceBuyer" if role == "buyer" else "PayableCertificatesNotInvoiceSeller"),
                 payload)


async def _certificate(gateway: Gateway, certificate_id: int) -> tuple[Any, ...]:
    """`CertificateView`: (id, root, parent, holder, amount, state, issuer, currency, maturity, invoice); all zero
    for an unknown certificate."""
    (view,) = await gateway.read(CONTRACT, "certificate", certificate_id)
    return view


async def _require_holder(gateway: Gateway, ctx: WriteContext, certificate_id: int, payload: dict[str, Any]) -> None:
    if is_party(ctx.caller, (await _certificate(gateway, certificate_id))[3]):
        return
    await refuse(gateway, ctx, _refusal(f"the holder of certificate {certificate_id}", {
        "certificate_id": certificate_id, "caller": ctx.caller.address}, "PayableCertificatesNotHolder"), payload)


# ───────────────────────────── offers ─────────────────────────────

async def offer(gateway: Gateway, ctx: WriteContext, body: CertificateOfferCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    payload = body.model_dump(mode="json")
    await _require_invoice_party(gateway, ctx, int(body.invoice_id), "buyer", payload)
    return await _send(gateway, ctx, "offer", int(body.invoice_id), body.amount, body.maturity,
                       operation="certificates.offer", payload=payload)


@register_result("certificates.offer", CertificateOffered, created=True)
def _offered(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateOffered").args
    return {"invoice_id": str(a["invoiceId"]), "issuer": a["issuer"], "seller": a["seller"],
                 "amount": a["amount"], "maturity": a["maturity"]}


async def accept_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    payload = {"invoice_id": str(invoice_id)}
    await _require_invoice_party(gateway, ctx, invoice_id, "seller", payload)
    return await _send(gateway, ctx, "acceptOffer", invoice_id, operation="certificates.issue", payload=payload)


@register_result("certificates.issue", CertificateIssued, created=True)
def _issued(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateIssued").args
    return {"certificate_id": a["certificateId"], "invoice_id": str(a["invoiceId"]), "issuer": a["issuer"],
                 "holder": a["holder"], "currency": a["currency"], "amount": a["amount"], "maturity": a["maturity"]}


async def withdraw_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    payload = {"invoice_id": str(invoice_id), "outcome": "Withdrawn"}
    await _require_invoice_party(gateway, ctx, invoice_id, "buyer", payload)
    return await _send(gateway, ctx, "withdrawOffer", invoice_id, operation="certificates.offer_closed",
                       payload=payload, outcome="Withdrawn")


async def decline_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    payload = {"invoice_id": str(invoice_id), "outcome": "Declined"}
    await _require_invoice_party(gateway, ctx, invoice_id, "seller", payload)
    return await _send(gateway, ctx, "declineOffer", invoice_id, operation="certificates.offer_closed",
                       payload=payload, outcome="Declined")


@register_result("certificates.offer_closed", CertificateOfferClosed)
def _offer_closed(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateOfferClosed").args
    return {"invoice_id": str(a["invoiceId"]), "by": a["by"], "outcome": outcome.context.get("outcome", "Closed")}


# ───────────────────────────── holders and banks ─────────────────────────────

async def transfer(gateway: Gateway, ctx: WriteContext, certificate_id: int, body: CertificateTransfer) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    payload = {"certificate_id": certificate_id, **body.model_dump(mode="json")}
    await _require_holder(gateway, ctx, certificate_id, payload)
    return await _send(gateway, ctx, "transfer", certificate_id, body.to, operation="certificates.transfer",
                       payload=payload)


@register_result("certificates.transfer", CertificateTransferred)
def _transferred(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateTransferred").args
    return {"certificate_id": a["certificateId"], "from": a["from"], "to": a["to"]}


async def split(gateway: Gateway, ctx: WriteContext, certificate_id: int, body: CertificateSplit) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    payload = {"certificate_id": certificate_id, **body.model_dump(mode="json")}
    await _require_holder(gateway, ctx, certificate_id, payload)
    amounts = [p.amount for p in body.parts]
    holders = [p.holder for p in body.parts]
    return await _send(gateway, ctx, "split", certificate_id, amounts, holders, operation="certificates.split",
                       payload=payload)


@register_result("certificates.split", CertificateSplitResult)
def _split(outcome: TxOutcome) -> dict[str, Any]:
    created = [e.args for e in outcome.events_named("CertificateCreated")]
    if not created:
        raise LookupError(f"no CertificateCreated event in {outcome.tx_hash}")
    return {"parent_id": created[0]["parentId"], "root_id": created[0]["rootId"],
                 "children": [{"certificate_id": a["certificateId"], "holder": a["holder"], "amount": a["amount"]}
                              for a in created]}


async def request_discount(gateway: Gateway, ctx: WriteContext, certificate_id: int,
                           body: DiscountRequestCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    payload = {"certificate_id": certificate_id, **body.model_dump(mode="json")}
    await _require_holder(gateway, ctx, certificate_id, payload)
    return await _send(gateway, ctx, "requestDiscount", certificate_id, body.bank, body.rate_bps,
                       operation="certificates.discount_request", payload=payload)


@register_result("certificates.discount_request", DiscountRequested)
def _discount_requested(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("DiscountRequested").args
    return {"certificate_id": a["certificateId"], "holder": a["holder"], "bank": a["bank"],
                 "rate_bps": a["rateBps"]}


async def cancel_discount_request(gateway: Gateway, ctx: WriteContext, certificate_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    return await _send(gateway, ctx, "cancelDiscountRequest", certificate_id,
                       operation="certificates.discount_cancel", payload={"certificate_id": certificate_id})


@register_result("certificates.discount_cancel", DiscountRequestCancelled)
def _discount_cancelled(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("DiscountRequestCancelled").args
    return {"certificate_id": a["certificateId"], "holder": a["holder"], "bank": a["bank"]}


async def accept_discount(gateway: Gateway, ctx: WriteContext, certificate_id: int,
                          body: DiscountAcceptance) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    payload = {"certificate_id": certificate_id, **body.model_dump(mode="json")}
    (request,) = await gateway.read(CONTRACT, "discountRequest", certificate_id)  # the holder's, to one bank
    if not is_party(ctx.caller, request[0]):
        await refuse(gateway, ctx, _refusal(
            f"the bank the holder of certificate {certificate_id} asked to discount it",
            {"certificate_id": certificate_id, "caller": ctx.caller.address}, "PayableCertificatesNotRequestedBank"),
            payload)
    return await _send(gateway, ctx, "acceptDiscount", certificate_id, body.rate_bps,
                       operation="certificates.discount", payload=payload)


@register_result("certificates.discount", CertificateDiscounted)
def _discounted(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateDiscounted").args
    return {"certificate_id": a["certificateId"], "seller": a["seller"], "bank": a["bank"],
                 "rate_bps": a["rateBps"], "days_to_maturity": a["daysToMaturity"], "amount": a["amount"],
                 "proceeds": a["proceeds"]}


async def settle(gateway: Gateway, ctx: WriteContext, body: CertificateSettlement) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    payload = body.model_dump(mode="json")
    views = await gateway.chain.read_many([(gateway.contract(CONTRACT), gateway.abi.function(CONTRACT, "certificate"),
                                            (certificate_id,)) for certificate_id in body.certificate_ids])
    for certificate_id, (view,) in zip(body.certificate_ids, views):
        if not is_party(ctx.caller, view[3], view[6]):  # its holder, its tree's core enterprise
            await refuse(gateway, ctx, _refusal(
                f"the holder of certificate {certificate_id} or its tree's core enterprise",
                {"certificate_id": certificate_id, "caller": ctx.caller.address},
                "PayableCertificatesNotSettlementParty"), payload)
            break
    return await _send(gateway, ctx, "settle", body.certificate_ids, operation="certificates.settle",
                       payload=payload)


@register_result("certificates.settle", CertificatesSettled)
def _settled(outcome: TxOutcome) -> dict[str, Any]:
    return {
        "settled": [{"certificate_id": e.args["certificateId"], "root_id": e.args["rootId"],
                     "holder": e.args["holder"], "amount": e.args["amount"]}
                    for e in outcome.events_named("CertificateSettled")],
        "trees_paid": [{"root_id": e.args["rootId"], "invoice_id": str(e.args["invoiceId"]),
                        "amount": e.args["amount"]} for e in outcome.events_named("CertificateTreePaid")],
    }


async def record_default(gateway: Gateway, ctx: WriteContext, root_id: int) -> WriteAnswer:
    """Recording a tree's default is open to every participant on chain, but the gateway records it for the tree's
    parties only (`_tree_party`): anyone else is answered 403 `PayableCertificatesNotTreeParty` before anything is
    sent, the same whether or not the tree exists, since a record that went through would tell it the tree's invoice
    and what is outstanding."""
    payload = {"root_id": root_id}
    if not await _tree_party(gateway, ctx, root_id):
        await refuse(gateway, ctx, Forbidden(
            f"only a party of certificate tree {root_id} may record its default through the gateway; the gateway "
            "tells no one else anything about the tree", {"root_id": root_id, "caller": ctx.caller.address},
            code="PayableCertificatesNotTreeParty"), payload)
    return await _send(gateway, ctx, "recordDefault", root_id, operation="certificates.default", payload=payload)


async def _tree_party(gateway: Gateway, ctx: WriteContext, root_id: int) -> bool:
    """The caller is a party of tree `root_id`: its core enterprise, its invoice's seller or its root's holder (on
    chain), or a party of any certificate of the tree (any wallet of its identity) as far as the index knows."""
    root = await _certificate(gateway, root_id)
    if root[1] != root_id:  # unknown, or not a root: no tree
        return False
    (invoice,) = await gateway.read("InvoiceRegistry", "invoice", root[9])
    if is_party(ctx.caller, root[3], root[6], invoice[0]):
        return True
    return await asyncio.to_thread(_indexed_tree_party, gateway, ctx.caller.address, root_id)


def _indexed_tree_party(gateway: Gateway, caller: str, root_id: int) -> bool:
    with gateway.sessions.kw["bind"].connect() as conn:
        v = viewer(conn, caller)
        details = conn.execute(
            select(Instrument.details).join(InstrumentParty, InstrumentParty.instrument == Instrument.uid)
            .where(v.is_one_of(InstrumentParty.participant), InstrumentParty.kind == "certificate")).scalars()
        return any(d and str(d.get("root_id")) == str(root_id) for d in details)


@register_result("certificates.default", TreeDefaulted)
def _tree_defaulted(outcome: TxOutcome) -> dict[str, Any]:
    a = outcome.event("CertificateTreeDefaulted").args
    return {"root_id": a["rootId"], "invoice_id": str(a["invoiceId"]), "outstanding": a["outstanding"]}
