"""Invoices (DESIGN §4): the seller registers and may cancel, the buyer confirms and pays, an attester
attaches a customs declaration. Duplicates answer 409 `InvoiceRegistryAlreadyRegistered`, whoever tries and
for whichever bank, in whichever letter case: the registry records the invoice number in one canonical form
(upper case) and the answer gives it. The buyer pays through the registry: it approves `InvoiceRegistry`
beforehand; a payment that would eat into what a letter of credit or a certificate tree has committed of the
invoice answers 409 with that instrument's error."""

from __future__ import annotations

import asyncio
from typing import Any

from app.chain.types import TxOutcome, WriteAnswer, register_result
from app.schemas.invoices import CustomsAttestation, InvoiceCancel, InvoiceCreate, InvoicePayment
from app.services.base import Gateway, ParticipantKind, WriteContext, bytes32_of, require_kind, submit
from app.services.documents import DocumentStore


def invoice_number_bytes(number: str) -> bytes:
    """The number as the invoice registry takes it: its ASCII characters, left-aligned and zero-padded to 32
    bytes (the schema allows only 1 to 32 printable ones; the registry folds them to upper case)."""
    return number.encode("ascii").ljust(32, b"\0")


def invoice_number_text(value: str) -> str:
    """A `bytes32` invoice number from an event (0x-hex) back to its characters."""
    return bytes.fromhex(value[2:]).rstrip(b"\0").decode("ascii", "replace")


async def register(gateway: Gateway, documents: DocumentStore, ctx: WriteContext, body: InvoiceCreate) -> WriteAnswer:
    token = gateway.contract(gateway.token_name(body.currency))
    call = gateway.call(
        "InvoiceRegistry", "register", body.buyer, token, invoice_number_bytes(body.invoice_number),
        body.face_amount, body.issue_date, body.due_date, bytes.fromhex(body.document_hash[2:]),
        operation="invoices.register", currency=body.currency,
    )
    answer = await submit(gateway, ctx, call, body.model_dump(mode="json"))
    if answer.http_status == 201 and documents.stored(body.document_hash):
        # The buyer may download the document the invoice references, but only when the seller could read it
        # itself: a hash is public once on chain, and naming someone else's document must not leak it.
        await asyncio.to_thread(documents.share, body.document_hash, [ctx.caller.address, body.buyer],
                                ctx.caller.address)
    return answer


@register_result("invoices.register")
def _registered(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoiceRegistered").args
    return 201, {
        "invoice_id": str(args["invoiceId"]), "seller": args["seller"], "buyer": args["buyer"],
        "currency": outcome.context["currency"], "face_amount": args["faceAmount"], "issue_date": args["issueDate"],
        "due_date": args["dueDate"], "invoice_number": invoice_number_text(args["invoiceNumber"]),
        "document_hash": args["documentHash"],
    }


async def confirm(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    call = gateway.call("InvoiceRegistry", "confirm", invoice_id, operation="invoices.confirm")
    return await submit(gateway, ctx, call, {"invoice_id": str(invoice_id)})


@register_result("invoices.confirm")
def _confirmed(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoiceConfirmed").args
    return 200, {"invoice_id": str(args["invoiceId"]), "buyer": args["buyer"]}


async def cancel(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: InvoiceCancel) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.CORPORATE)
    call = gateway.call("InvoiceRegistry", "cancel", invoice_id, bytes32_of(body.reason), operation="invoices.cancel")
    return await submit(gateway, ctx, call, {"invoice_id": str(invoice_id), **body.model_dump(mode="json")})


@register_result("invoices.cancel")
def _cancelled(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoiceCancelled").args
    return 200, {"invoice_id": str(args["invoiceId"]), "seller": args["seller"], "reason_code": args["reasonCode"]}


async def pay(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: InvoicePayment) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.CORPORATE)
    call = gateway.call("InvoiceRegistry", "pay", invoice_id, body.amount, operation="invoices.pay")
    return await submit(gateway, ctx, call, {"invoice_id": str(invoice_id), **body.model_dump(mode="json")})


@register_result("invoices.pay")
def _paid(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoicePaid").args
    return 200, {"invoice_id": str(args["invoiceId"]), "payer": args["payer"], "amount": args["amount"],
                 "to_financier": args["toFinancier"], "to_seller": args["toSeller"],
                 "paid_amount": args["paidAmount"]}


async def attest_customs(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: CustomsAttestation) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.ATTESTER)
    call = gateway.call("InvoiceRegistry", "attestCustoms", invoice_id, bytes.fromhex(body.declaration_hash[2:]),
                        body.declared_amount, operation="invoices.customs")
    return await submit(gateway, ctx, call, {"invoice_id": str(invoice_id), **body.model_dump(mode="json")})


@register_result("invoices.customs")
def _customs(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("CustomsAttested").args
    return 200, {"invoice_id": str(args["invoiceId"]), "attester": args["attester"],
                 "declaration_hash": args["declarationHash"], "declared_amount": args["declaredAmount"],
                 "face_amount": args["faceAmount"], "matched": args["matched"]}
