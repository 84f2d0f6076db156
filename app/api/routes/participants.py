from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from app.api.deps import CallerDep, GatewayDep, WriteContextDep
from app.api.routes._write import error_response, respond
from app.schemas.common import ERROR_RESPONSES, Address
from app.schemas.participants import (
    CustodyReleased,
    CustodyReleaseRequest,
    FreezeRequest,
    KycAttestation,
    KycRevocation,
    ParticipantCreate,
    ParticipantPublic,
    WalletLink,
)
from app.services import custody
from app.services import participants as service
from app.services.results import written

router = APIRouter(tags=["participants"], responses=ERROR_RESPONSES)

AddressPath = Annotated[Address, Path(description="The participant's address")]


@router.post("/participants", **written("participants.register"),
             summary="Register a participant (operator)")
async def register_participant(body: ParticipantCreate, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.register(gateway, ctx, body), ctx)


@router.post("/participants/{address}/custody/release", response_model=CustodyReleased, status_code=200,
             summary="Move a participant from custody to its own key (operator)",
             description="Links the participant's own wallet to its legal identity, moves every balance of the custodial "
             "address there, re-points its API keys to it, and overwrites and removes the custodial keystore (the "
             "removal is recorded with the file's SHA-256). From then on the participant writes with signed "
             "requests (`<route>:prepare`, `POST /v1/signed-requests`); the gateway can no longer sign for it. "
             "A step refused stops the release before the key is destroyed; a repeated key answers the record.",
             openapi_extra={"x-no-prepare": True})
async def release_custody(address: AddressPath, body: CustodyReleaseRequest, ctx: WriteContextDep,
                          gateway: GatewayDep, request: Request):
    answer = await custody.release(gateway, request.app.state.api_keys, ctx, address, body)
    return answer if isinstance(answer, dict) else error_response(answer)


@router.get("/participants/{address}", response_model=ParticipantPublic, summary="A participant's public record",
            description="Read from the chain: kind, jurisdiction, whether it may act now, each bank's KYC "
            "attestation of its legal identity, and the identity's wallets.")
async def get_participant(address: AddressPath, caller: CallerDep, gateway: GatewayDep):
    return await service.get_participant(gateway, address)


@router.post("/participants/{address}/wallets", **written("participants.link_wallet"),
             summary="Link a further wallet to a participant's legal identity (operator)",
             description="The wallet shares the identity's kind, jurisdiction, KYC and freezes, and the invoices it "
             "registers have the identity's duplicate keys. Without `wallet`, the gateway creates the wallet's key "
             "and signs for it (custody). A wallet already registered answers 409 "
             "`ParticipantRegistryAlreadyRegistered`; an identity registered afresh under a second wallet is refused "
             "at registration (409 `ParticipantRegistryIdentityTaken`): link it here instead.")
async def link_wallet(address: AddressPath, body: WalletLink, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.link_wallet(gateway, ctx, address, body), ctx)


@router.post("/participants/{address}/kyc", **written("participants.kyc"),
             summary="Record the calling bank's own KYC review of a corporate (bank)",
             description="Each bank keeps its own attestation and changes only that one: another bank's approval "
             "stays as it is. The corporate may act while at least one approval has not expired "
             "(`kyc_valid_until`). A participant other than a corporate answers 422 "
             "`ParticipantRegistryUnexpectedKind`.")
async def attest_kyc(address: AddressPath, body: KycAttestation, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.attest_kyc(gateway, ctx, address, body), ctx)


@router.post("/participants/{address}/kyc/revoke", **written("participants.kyc_revoke"),
             summary="Revoke every bank's KYC attestation of a participant's identity (regulator)",
             description="The corporate and every wallet of its identity may no longer act until a bank attests "
             "its KYC afresh.")
async def revoke_kyc(address: AddressPath, body: KycRevocation, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.revoke_kyc(gateway, ctx, address, body), ctx)


@router.post("/participants/{address}/freeze", **written("participants.freeze"),
             summary="Freeze a participant (regulator)")
async def freeze_participant(address: AddressPath, body: FreezeRequest, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.set_participant_frozen(gateway, ctx, address, True, body), ctx)


@router.post("/participants/{address}/unfreeze", **written("participants.freeze"),
             summary="Unfreeze a participant (regulator)")
async def unfreeze_participant(address: AddressPath, body: FreezeRequest, ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.set_participant_frozen(gateway, ctx, address, False, body), ctx)


InstrumentContract = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_]+$",
                                         description="The instrument's kind as the read routes name it: `invoice`, "
                                         "`financing`, `certificate`, `letter_of_credit` (the deployed contract's "
                                         "name, e.g. `InvoiceRegistry`, or address is accepted too)",
                                         examples=["invoice"])]
InstrumentId = Annotated[int, Path(ge=0, lt=2**256)]


@router.post("/instruments/{contract}/{instrument_id}/freeze", **written("participants.freeze"),
             summary="Freeze one instrument (regulator)")
async def freeze_instrument(contract: InstrumentContract, instrument_id: InstrumentId, body: FreezeRequest,
                            ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.set_instrument_frozen(gateway, ctx, contract, instrument_id, True, body), ctx)


@router.post("/instruments/{contract}/{instrument_id}/unfreeze", **written("participants.freeze"),
             summary="Unfreeze one instrument (regulator)")
async def unfreeze_instrument(contract: InstrumentContract, instrument_id: InstrumentId, body: FreezeRequest,
                              ctx: WriteContextDep, gateway: GatewayDep):
    return respond(await service.set_instrument_frozen(gateway, ctx, contract, instrument_id, False, body), ctx)
