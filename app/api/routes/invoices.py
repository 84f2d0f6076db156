from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES
from app.schemas.invoices import (
    CustomsAttestation,
    InvoiceCancel,
    InvoiceCreate,
    InvoicePayment,
)
from app.services import invoices as service
from app.services.results import written

router = APIRouter(tags=["invoices"], responses=ERROR_RESPONSES)

InvoiceId = Annotated[int, Path(ge=0, lt=2**256, description="The invoice's token id (decimal)")]


@router.post("/invoices", **written("invoices.register"),
             summary="Register an invoice (the seller)",
             description="The invoice number is 1 to 32 printable ASCII characters without spaces (else 422 with "
             "the reason); the chain records it in upper case and the answer gives that canonical number. A second "
             "registration of the same (seller, buyer, invoice number), in any letter case, from any wallet of the "
             "same legal identities, answers 409 `InvoiceRegistryAlreadyRegistered`.")
async def register_invoice(body: InvoiceCreate, ctx: WriteContextDep, gateway: GatewayDep, request: Request):
    return respond(await service.register(gateway, request.app.state.documents, ctx, body), ctx)


@router.post("/invoices/{invoice_id}/confirm", **written("invoices.confirm"),
             summary="Confirm an invoice's debt (the buyer)",
             description="Anyone but the invoice's buyer is answered 403 `InvoiceRegistryNotBuyer`, with the same body "
             "whether or not the invoice exists.")
async def confirm_invoice(invoice_id: InvoiceId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.confirm(gateway, ctx, invoice_id), ctx)


@router.post("/invoices/{invoice_id}/cancel", **written("invoices.cancel"),
             summary="Cancel an invoice before any financing or payment (the seller)",
             description="The duplicate key stays taken. A financed (liened) invoice answers 409. Anyone but the "
             "invoice's seller (its current owner) is answered 403 `InvoiceRegistryNotSeller`, with the same body "
             "whether or not the invoice exists.")
async def cancel_invoice(invoice_id: InvoiceId, body: InvoiceCancel, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.cancel(gateway, ctx, invoice_id, body), ctx)


@router.post("/invoices/{invoice_id}/payments", **written("invoices.pay"),
             summary="Pay an invoice, partially or in full (the buyer)",
             description="The lien's financier receives what its instrument says it is owed, the seller the rest; "
             "a financing repaid in full closes in the same transaction. The buyer must first allow "
             "`InvoiceRegistry` to move the amount (`POST /v1/approvals` with `spender: InvoiceRegistry`). A lien "
             "that only reserves the invoice routes nothing to its would-be financier. A payment that would eat into "
             "what a certificate tree covers answers 409 `PayableCertificatesPayThroughCertificates`, into what a "
             "letter-of-credit presentation claims 409 `LetterOfCreditInvoiceUnderPresentation` (each names what "
             "may still be paid directly); a financing the regulator froze 409 `ReceivableFinancingFrozen`. Anyone "
             "but the invoice's buyer is answered 403 `InvoiceRegistryNotBuyer`, with the same body whether or not "
             "the invoice exists.")
async def pay_invoice(invoice_id: InvoiceId, body: InvoicePayment, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.pay(gateway, ctx, invoice_id, body), ctx)


@router.post("/invoices/{invoice_id}/customs", **written("invoices.customs"),
             summary="Attach (or replace) a customs declaration before financing (an attester)",
             description="A declared amount different from the face amount is recorded as a mismatch "
             "(`matched: false`); banks requiring a customs match then refuse to finance the invoice. Only the "
             "attester that attached the declaration, or a customs authority, may replace it. An invoice the "
             "attester may not attest (unknown, not `Registered` or `Confirmed`, frozen, or declared by another "
             "attester) answers 403 `InvoiceNotAttestable` with the same body whatever the reason, before anything "
             "is sent. The attester then reads the invoice (`GET /v1/instruments/invoice/{id}`) in part only: its "
             "id, state and `details.customs`.")
async def attest_customs(invoice_id: InvoiceId, body: CustomsAttestation, ctx: WriteContextDep,
                         gateway: GatewayDep):
    return respond(await service.attest_customs(gateway, ctx, invoice_id, body), ctx)
