"""Invoices (DESIGN §4): the seller registers, the buyer confirms. Duplicates answer 409
`InvoiceRegistryAlreadyRegistered`, whoever tries and for whichever bank."""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import keccak

from app.chain.types import TxOutcome, WriteAnswer, register_result
from app.schemas.invoices import InvoiceCreate
from app.services.base import Gateway, WriteContext, submit
from app.services.documents import DocumentStore


def invoice_number_bytes(number: str) -> bytes:
    """The gateway's one convention: ASCII right-padded when it fits in 32 bytes, else keccak256."""
    raw = number.encode("utf-8")
    return raw.ljust(32, b"\0") if len(raw) <= 32 and number.isascii() else keccak(raw)


async def register(gateway: Gateway, documents: DocumentStore, ctx: WriteContext, body: InvoiceCreate) -> WriteAnswer:
    token = gateway.contract(gateway.token_name(body.currency))
    call = gateway.call(
        "InvoiceRegistry", "register", body.buyer, token, invoice_number_bytes(body.invoice_number),
        body.face_amount, body.issue_date, body.due_date, bytes.fromhex(body.document_hash[2:]),
        operation="invoices.register", currency=body.currency, invoice_number=body.invoice_number,
    )
    answer = await submit(gateway, ctx, call, body.model_dump(mode="json"))
    if answer.http_status == 201:
        # Both parties of the invoice may download the document it references.
        await asyncio.to_thread(documents.share, body.document_hash, [ctx.caller.address, body.buyer])
    return answer


@register_result("invoices.register")
def _registered(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoiceRegistered").args
    return 201, {
        "invoice_id": str(args["invoiceId"]), "seller": args["seller"], "buyer": args["buyer"],
        "currency": outcome.context["currency"], "face_amount": args["faceAmount"], "issue_date": args["issueDate"],
        "due_date": args["dueDate"], "invoice_number": outcome.context["invoice_number"],
        "document_hash": args["documentHash"],
    }


async def confirm(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    call = gateway.call("InvoiceRegistry", "confirm", invoice_id, operation="invoices.confirm")
    return await submit(gateway, ctx, call, {"invoice_id": str(invoice_id)})


@register_result("invoices.confirm")
def _confirmed(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("InvoiceConfirmed").args
    return 200, {"invoice_id": str(args["invoiceId"]), "buyer": args["buyer"]}
