from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES, WriteResult
from app.schemas.invoices import InvoiceConfirmed, InvoiceCreate, InvoiceRegistered
from app.services import invoices as service

router = APIRouter(tags=["invoices"], responses=ERROR_RESPONSES)

InvoiceId = Annotated[int, Path(ge=0, lt=2**256, description="The invoice's token id (decimal)")]


@router.post("/invoices", status_code=201, response_model=WriteResult[InvoiceRegistered],
             summary="Register an invoice (the seller)",
             description="A second registration of the same (seller, buyer, invoice number), from any wallet "
             "of the same legal identities, answers 409 `InvoiceRegistryAlreadyRegistered`.")
async def register_invoice(body: InvoiceCreate, ctx: WriteContextDep, gateway: GatewayDep, request: Request):
    return respond(await service.register(gateway, request.app.state.documents, ctx, body))


@router.post("/invoices/{invoice_id}/confirm", response_model=WriteResult[InvoiceConfirmed],
             summary="Confirm an invoice's debt (the buyer)")
async def confirm_invoice(invoice_id: InvoiceId, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.confirm(gateway, ctx, invoice_id))
