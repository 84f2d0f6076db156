"""Payable certificates (DESIGN §7): a core enterprise offers a certificate against its confirmed invoice and
the invoice's seller accepts it (the seller consents to the lien: nobody pledges another's receivable) or
declines it; holders transfer, split and ask banks to discount; banks discount; the core enterprise settles at
maturity.

The gateway checks the caller's participant kind (only corporates offer and accept, only banks discount); the
contract checks that the caller is the holder, the invoice's buyer or seller, or the requested bank. Money moves
with `transferFromWithPurpose`: the discounting bank and the settling core enterprise approve
`PayableCertificates` beforehand (`POST /v1/approvals`).
"""

from __future__ import annotations

from typing import Any

from app.chain.types import TxOutcome, WriteAnswer, register_result
from app.schemas.certificates import (
    CertificateOfferCreate, CertificateSettlement, CertificateSplit, CertificateTransfer, DiscountAcceptance,
    DiscountRequestCreate,
)
from app.services.base import Gateway, ParticipantKind, WriteContext, require_kind, submit

CONTRACT = "PayableCertificates"
CORPORATE, BANK = ParticipantKind.CORPORATE, ParticipantKind.BANK
HOLDERS = (CORPORATE, BANK)  # a bank holds what it discounted


async def _send(gateway: Gateway, ctx: WriteContext, function: str, *args: Any, operation: str,
                payload: dict[str, Any], **context: Any) -> WriteAnswer:
    return await submit(gateway, ctx, gateway.call(CONTRACT, function, *args, operation=operation, **context),
                        payload)


# ───────────────────────────── offers ─────────────────────────────

async def offer(gateway: Gateway, ctx: WriteContext, body: CertificateOfferCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "offer", int(body.invoice_id), body.amount, body.maturity,
                       operation="certificates.offer", payload=body.model_dump(mode="json"))


@register_result("certificates.offer")
def _offered(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateOffered").args
    return 201, {"invoice_id": str(a["invoiceId"]), "issuer": a["issuer"], "seller": a["seller"],
                 "amount": a["amount"], "maturity": a["maturity"]}


async def accept_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "acceptOffer", invoice_id, operation="certificates.issue",
                       payload={"invoice_id": str(invoice_id)})


@register_result("certificates.issue")
def _issued(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateIssued").args
    return 201, {"certificate_id": a["certificateId"], "invoice_id": str(a["invoiceId"]), "issuer": a["issuer"],
                 "holder": a["holder"], "currency": a["currency"], "amount": a["amount"], "maturity": a["maturity"]}


async def withdraw_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "withdrawOffer", invoice_id, operation="certificates.offer_closed",
                       payload={"invoice_id": str(invoice_id), "outcome": "Withdrawn"}, outcome="Withdrawn")


async def decline_offer(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, CORPORATE)
    return await _send(gateway, ctx, "declineOffer", invoice_id, operation="certificates.offer_closed",
                       payload={"invoice_id": str(invoice_id), "outcome": "Declined"}, outcome="Declined")


@register_result("certificates.offer_closed")
def _offer_closed(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateOfferClosed").args
    return 200, {"invoice_id": str(a["invoiceId"]), "by": a["by"], "outcome": outcome.context.get("outcome", "Closed")}


# ───────────────────────────── holders and banks ─────────────────────────────

async def transfer(gateway: Gateway, ctx: WriteContext, certificate_id: int, body: CertificateTransfer) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    return await _send(gateway, ctx, "transfer", certificate_id, body.to, operation="certificates.transfer",
                       payload={"certificate_id": certificate_id, **body.model_dump(mode="json")})


@register_result("certificates.transfer")
def _transferred(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateTransferred").args
    return 200, {"certificate_id": a["certificateId"], "from": a["from"], "to": a["to"]}


async def split(gateway: Gateway, ctx: WriteContext, certificate_id: int, body: CertificateSplit) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    amounts = [p.amount for p in body.parts]
    holders = [p.holder for p in body.parts]
    return await _send(gateway, ctx, "split", certificate_id, amounts, holders, operation="certificates.split",
                       payload={"certificate_id": certificate_id, **body.model_dump(mode="json")})


@register_result("certificates.split")
def _split(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    created = [e.args for e in outcome.events_named("CertificateCreated")]
    if not created:
        raise LookupError(f"no CertificateCreated event in {outcome.tx_hash}")
    return 200, {"parent_id": created[0]["parentId"], "root_id": created[0]["rootId"],
                 "children": [{"certificate_id": a["certificateId"], "holder": a["holder"], "amount": a["amount"]}
                              for a in created]}


async def request_discount(gateway: Gateway, ctx: WriteContext, certificate_id: int,
                           body: DiscountRequestCreate) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    return await _send(gateway, ctx, "requestDiscount", certificate_id, body.bank, body.rate_bps,
                       operation="certificates.discount_request",
                       payload={"certificate_id": certificate_id, **body.model_dump(mode="json")})


@register_result("certificates.discount_request")
def _discount_requested(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("DiscountRequested").args
    return 200, {"certificate_id": a["certificateId"], "holder": a["holder"], "bank": a["bank"],
                 "rate_bps": a["rateBps"]}


async def cancel_discount_request(gateway: Gateway, ctx: WriteContext, certificate_id: int) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    return await _send(gateway, ctx, "cancelDiscountRequest", certificate_id,
                       operation="certificates.discount_cancel", payload={"certificate_id": certificate_id})


@register_result("certificates.discount_cancel")
def _discount_cancelled(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("DiscountRequestCancelled").args
    return 200, {"certificate_id": a["certificateId"], "holder": a["holder"], "bank": a["bank"]}


async def accept_discount(gateway: Gateway, ctx: WriteContext, certificate_id: int,
                          body: DiscountAcceptance) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, BANK)
    return await _send(gateway, ctx, "acceptDiscount", certificate_id, body.rate_bps,
                       operation="certificates.discount",
                       payload={"certificate_id": certificate_id, **body.model_dump(mode="json")})


@register_result("certificates.discount")
def _discounted(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateDiscounted").args
    return 200, {"certificate_id": a["certificateId"], "seller": a["seller"], "bank": a["bank"],
                 "rate_bps": a["rateBps"], "days_to_maturity": a["daysToMaturity"], "amount": a["amount"],
                 "proceeds": a["proceeds"]}


async def settle(gateway: Gateway, ctx: WriteContext, body: CertificateSettlement) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, *HOLDERS)
    return await _send(gateway, ctx, "settle", body.certificate_ids, operation="certificates.settle",
                       payload=body.model_dump(mode="json"))


@register_result("certificates.settle")
def _settled(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    return 200, {
        "settled": [{"certificate_id": e.args["certificateId"], "root_id": e.args["rootId"],
                     "holder": e.args["holder"], "amount": e.args["amount"]}
                    for e in outcome.events_named("CertificateSettled")],
        "trees_paid": [{"root_id": e.args["rootId"], "invoice_id": str(e.args["invoiceId"]),
                        "amount": e.args["amount"]} for e in outcome.events_named("CertificateTreePaid")],
    }


async def record_default(gateway: Gateway, ctx: WriteContext, root_id: int) -> WriteAnswer:
    return await _send(gateway, ctx, "recordDefault", root_id, operation="certificates.default",
                       payload={"root_id": root_id})


@register_result("certificates.default")
def _tree_defaulted(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    a = outcome.event("CertificateTreeDefaulted").args
    return 200, {"root_id": a["rootId"], "invoice_id": str(a["invoiceId"]), "outstanding": a["outstanding"]}
