from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.deps import CallerDep, GatewayDep, WriteContextDep
from app.api.routes._write import respond
from app.schemas.common import ERROR_RESPONSES, Address
from app.schemas.money import Balances, BurnRequest, MintRequest, PaymentCreate
from app.services import money as service
from app.services.results import written

router = APIRouter(responses=ERROR_RESPONSES)


@router.post("/deposits/mint", **written("deposits.mint"), tags=["deposits"],
             summary="Mint tokenized deposits to a customer (bank)")
async def mint(body: MintRequest, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.mint(gateway, ctx, body), ctx)


@router.post("/deposits/burn", **written("deposits.burn"), tags=["deposits"],
             summary="Burn the bank's own tokenized deposits on a withdrawal (bank)")
async def burn(body: BurnRequest, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.burn(gateway, ctx, body), ctx)


@router.get("/balances", response_model=Balances, tags=["deposits"], summary="The caller's balances")
async def my_balances(caller: CallerDep, gateway: GatewayDep):
    return await service.balances(gateway, caller, caller.address)


@router.get("/balances/{address}", response_model=Balances, tags=["deposits"],
            summary="A participant's balances (the holder, the regulator, the operator)")
async def balances_of(address: Annotated[Address, Path()], caller: CallerDep, gateway: GatewayDep):
    return await service.balances(gateway, caller, address)


@router.post("/payments", **written("payments.transfer"), tags=["payments"],
             summary="Pay in one currency with an ISO 20022 purpose code")
async def pay(body: PaymentCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.pay(gateway, ctx, body), ctx)
