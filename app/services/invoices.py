"""Invoices (DESIGN §4): the seller registers and may cancel, the buyer confirms and pays, an attester
attaches a customs declaration. Duplicates answer 409 `InvoiceRegistryAlreadyRegistered`, whoever tries and
for whichever bank, in whichever letter case: the registry records the invoice number in one canonical form
(upper case) and the answer gives it. The buyer pays through the registry: it approves `InvoiceRegistry`
beforehand; a payment that would eat into what a letter of credit or a certificate tree has committed of the
invoice answers 409 with that instrument's error.

Who may take a step is checked by the gateway before anything about the invoice is looked at: a caller that is
not the invoice's buyer (confirm, pay) or seller (its current owner: cancel) answers 403
`InvoiceRegistryNotBuyer`/`InvoiceRegistryNotSeller` with the same body whether or not the invoice exists, so the
steps are no existence oracle (an invoice id is the hash of who trades with whom under which number). The contract
stays the authority for the parties. Attaching a customs declaration is an attester's trade on any invoice (as on
chain): a non-attester is refused by kind before anything is read, an attester that may not act now by the
registry's own 403, and an invoice the attester may not attest (unknown, not Registered or Confirmed, frozen,
declared by another attester while the caller is no customs authority) answers one 403 `InvoiceNotAttestable`,
the same body whatever the reason. What the attester then reads of the invoice in the index is its customs part
only (`index_queries`). A repeated Idempotency-Key of the very same request replays its answer (`refuse`).

Follow-ups of a mined registration (the document grant) never turn it into an error (`base.follow_up`)."""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import keccak

from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import InvoiceState, ParticipantKind
from app.core.errors import Forbidden
from app.schemas.invoices import (
    CustomsAttestation,
    CustomsAttested,
    InvoiceCancel,
    InvoiceCancelled,
    InvoiceConfirmed,
    InvoiceCreate,
    InvoicePaid,
    InvoicePayment,
    InvoiceRegistered,
)
from app.services.base import (
    Gateway,
    WriteContext,
    bytes32_of,
    follow_up,
    is_party,
    refuse,
    require_kind,
    submit,
)
from app.services.documents import DocumentStore
from app.services.results import register_result


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
    if answer.http_status == 201:
        # The buyer may download the document the invoice references when the seller, who named it on chain,
        # could read it itself (`document_access`): naming someone else's document must not leak it. A follow-up
        # of the mined registration: its failure never turns the registration into an error (`follow_up`).
        result = answer.body["result"]
        await follow_up(f"invoice {result['invoice_id']}: document grant", asyncio.to_thread(
            documents.grant, "invoice", {body.document_hash: result["seller"]},
            [("seller", result["seller"]), ("buyer", result["buyer"])]))
    return answer


@register_result("invoices.register", InvoiceRegistered, created=True)
def _registered(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("InvoiceRegistered").args
    return {
        "invoice_id": str(args["invoiceId"]), "seller": args["seller"], "buyer": args["buyer"],
        "currency": outcome.context["currency"], "face_amount": args["faceAmount"], "issue_date": args["issueDate"],
        "due_date": args["dueDate"], "invoice_number": invoice_number_text(args["invoiceNumber"]),
        "document_hash": args["documentHash"],
    }


async def _require_party(gateway: Gateway, ctx: WriteContext, invoice_id: int, role: str,
                         payload: dict[str, Any]) -> None:
    """The caller is the invoice's `role` ("buyer", or "seller": its current owner); else 403, the same whether
    or not the invoice exists (an unknown invoice reads as all zeros: it has no parties)."""
    (view,) = await gateway.read("InvoiceRegistry", "invoice", invoice_id)
    seller, buyer = view[0], view[1]
    if is_party(ctx.caller, buyer if role == "buyer" else seller):
        return
    who = "buyer" if role == "buyer" else "seller (its current owner)"
    await refuse(gateway, ctx, Forbidden(
        f"only the {who} of invoice {invoice_id} may take this step; the gateway tells no one else anything about "
        "the invoice", {"invoice_id": str(invoice_id), "caller": ctx.caller.address},
        code="InvoiceRegistryNotBuyer" if role == "buyer" else "InvoiceRegistryNotSeller"), payload)


async def confirm(gateway: Gateway, ctx: WriteContext, invoice_id: int) -> WriteAnswer:
    payload = {"invoice_id": str(invoice_id)}
    await _require_party(gateway, ctx, invoice_id, "buyer", payload)
    call = gateway.call("InvoiceRegistry", "confirm", invoice_id, operation="invoices.confirm")
    return await submit(gateway, ctx, call, payload)


@register_result("invoices.confirm", InvoiceConfirmed)
def _confirmed(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("InvoiceConfirmed").args
    return {"invoice_id": str(args["invoiceId"]), "buyer": args["buyer"]}


async def cancel(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: InvoiceCancel) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Corporate)
    payload = {"invoice_id": str(invoice_id), **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, invoice_id, "seller", payload)
    call = gateway.call("InvoiceRegistry", "cancel", invoice_id, bytes32_of(body.reason), operation="invoices.cancel")
    return await submit(gateway, ctx, call, payload)


@register_result("invoices.cancel", InvoiceCancelled)
def _cancelled(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("InvoiceCancelled").args
    return {"invoice_id": str(args["invoiceId"]), "seller": args["seller"], "reason_code": args["reasonCode"]}


async def pay(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: InvoicePayment) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Corporate)
    payload = {"invoice_id": str(invoice_id), **body.model_dump(mode="json")}
    await _require_party(gateway, ctx, invoice_id, "buyer", payload)
    call = gateway.call("InvoiceRegistry", "pay", invoice_id, body.amount, operation="invoices.pay")
    return await submit(gateway, ctx, call, payload)


@register_result("invoices.pay", InvoicePaid)
def _paid(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("InvoicePaid").args
    return {"invoice_id": str(args["invoiceId"]), "payer": args["payer"], "amount": args["amount"],
                 "to_financier": args["toFinancier"], "to_seller": args["toSeller"],
                 "paid_amount": args["paidAmount"]}


# `IInvoiceLiens.InvoiceState` members a customs declaration may be attached in (`attestCustoms`).
_ATTESTABLE_STATES = (InvoiceState.Registered, InvoiceState.Confirmed)
ATTESTER_ROLE, CUSTOMS_ROLE = keccak(text="ATTESTER_ROLE"), keccak(text="CUSTOMS_ROLE")


def _not_attestable(invoice_id: int, caller: str) -> Forbidden:
    """The one answer to an attester for an invoice it may not attest, whatever the reason (unknown, in another
    state, frozen, declared by another attester): the same status and body, naming nobody but the caller."""
    return Forbidden(
        f"invoice {invoice_id} takes no customs declaration from this attester: it attests only an invoice that is "
        "Registered or Confirmed and not frozen, whose declaration is its own or none yet (a customs authority "
        "replaces any); the gateway tells no one anything else about the invoice",
        {"invoice_id": str(invoice_id), "caller": caller}, code="InvoiceNotAttestable")


async def attest_customs(gateway: Gateway, ctx: WriteContext, invoice_id: int, body: CustomsAttestation) -> WriteAnswer:
    """Any authorized attester may attest any invoice on chain, and the contract's answers would tell it whether
    the invoice exists (404), its state (409) and who attested before (403). So the gateway first asks the chain
    what concerns the caller alone (its authority as an attester: the contract's own 403), then whether this
    invoice takes its declaration; every invoice that does not, answers 403 `InvoiceNotAttestable`, one body."""
    await require_kind(gateway, ctx.caller, ParticipantKind.Attester)
    payload = {"invoice_id": str(invoice_id), **body.model_dump(mode="json")}
    me = ctx.caller.address
    registry, participants = gateway.contract("InvoiceRegistry"), gateway.contract("ParticipantRegistry")

    def fn(contract: str, name: str) -> Any:
        return gateway.abi.function(gateway.deployment.contract_type(contract), name)

    # One batch; the first call reverts with the registry's own 403 when the caller may not act as an attester now
    # (which tells it about itself only), before anything about the invoice is answered.
    _, (state,), (previous,), (frozen,), (customs,) = await gateway.chain.read_many([
        (participants, fn("ParticipantRegistry", "requireAuthorized"), (me, ATTESTER_ROLE)),
        (registry, fn("InvoiceRegistry", "state"), (invoice_id,)),
        (registry, fn("InvoiceRegistry", "customsAttesterOf"), (invoice_id,)),
        (participants, fn("ParticipantRegistry", "isInstrumentFrozen"), (registry, invoice_id)),
        (participants, fn("ParticipantRegistry", "isAuthorized"), (me, CUSTOMS_ROLE)),
    ])
    own_or_none = int(previous, 16) == 0 or is_party(ctx.caller, previous)  # else only a customs authority replaces
    if state not in _ATTESTABLE_STATES or frozen or not (own_or_none or customs):
        await refuse(gateway, ctx, _not_attestable(invoice_id, me), payload)
    call = gateway.call("InvoiceRegistry", "attestCustoms", invoice_id, bytes.fromhex(body.declaration_hash[2:]),
                        body.declared_amount, operation="invoices.customs")
    answer = await submit(gateway, ctx, call, payload)
    # The invoice changed between the reads and the block (financed, frozen, attested by another): still no reason.
    error = answer.body.get("error") if 400 <= answer.http_status < 500 else None
    if isinstance(error, dict) and str(error.get("code", "")).startswith("InvoiceRegistry"):
        return WriteAnswer(403, _not_attestable(invoice_id, me).body(), answer.replayed)
    return answer


@register_result("invoices.customs", CustomsAttested)
def _customs(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("CustomsAttested").args
    return {"invoice_id": str(args["invoiceId"]), "attester": args["attester"],
                 "declaration_hash": args["declarationHash"], "declared_amount": args["declaredAmount"],
                 "face_amount": args["faceAmount"], "matched": args["matched"]}
