"""Participants and KYC: the operator registers (with the participant's own address, or without one: then
the gateway creates and holds the participant's key), a bank attests KYC, the regulator freezes."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.chain.signer import Signer
from app.chain.types import TxOutcome, WriteAnswer, register_result
from app.core.errors import NotFound
from app.db.models import CustodialKey
from app.schemas.participants import FreezeRequest, KycAttestation, ParticipantCreate
from app.services.base import (
    Gateway,
    ParticipantKind,
    WriteContext,
    ascii_code,
    bytes32_of,
    require_kind,
    submit,
)

KYC_STATUS = {"Approved": 1, "Rejected": 2, "Revoked": 3}
KYC_NAMES = {0: "None", 1: "Approved", 2: "Rejected", 3: "Revoked"}
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


async def register(gateway: Gateway, ctx: WriteContext, body: ParticipantCreate) -> WriteAnswer:
    """Register a participant. Without an address, the gateway creates the participant's key in an
    encrypted keystore and signs for it from now on (custody): the key is created, and recorded under the
    operator's Idempotency-Key, before the registration is sent, so a repeated request reuses it."""
    await require_kind(gateway, ctx.caller, ParticipantKind.OPERATOR)
    address = body.address or await _custodial_address(gateway, ctx)
    call = gateway.call(
        "ParticipantRegistry", "registerParticipant", address, ParticipantKind[body.kind.name.upper()].value,
        body.jurisdiction.encode(), bytes.fromhex(body.identity_hash[2:]), operation="participants.register",
        custodial=body.address is None,
    )
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


async def _custodial_address(gateway: Gateway, ctx: WriteContext) -> str:
    address, signer = await asyncio.to_thread(_custodial_key, gateway, ctx)
    if signer is not None:
        gateway.chain.add_signer(signer)
    return address


def _custodial_key(gateway: Gateway, ctx: WriteContext) -> tuple[str, Signer | None]:
    """(address, its new signer) for this request; (the address recorded earlier, None) for a repeat. When
    the Idempotency-Key already belongs to a request that made no key, (zero address, None): the chain
    client replays that answer (or refuses a different request) and sends nothing, so no key is made."""
    recorded = _recorded_custodial_key(gateway, ctx)
    if recorded is not None:
        return recorded, None
    if gateway.chain.outbox.find_request(ctx.caller.address, ctx.idempotency_key) is not None:
        return ZERO_ADDRESS, None
    signer = gateway.keystores.generate_signer()
    try:
        with gateway.sessions.begin() as session:
            session.add(CustodialKey(address=signer.address, requested_by=ctx.caller.address,
                                     idempotency_key=ctx.idempotency_key))
    except IntegrityError:  # the same request, repeated concurrently, recorded its key first
        gateway.keystores.path_for(signer.address).unlink(missing_ok=True)
        recorded = _recorded_custodial_key(gateway, ctx)
        if recorded is None:
            raise
        return recorded, None
    return signer.address, signer


def _recorded_custodial_key(gateway: Gateway, ctx: WriteContext) -> str | None:
    with gateway.sessions() as session:
        return session.scalars(select(CustodialKey.address).where(
            CustodialKey.requested_by == ctx.caller.address, CustodialKey.idempotency_key == ctx.idempotency_key,
        )).first()


@register_result("participants.register")
def _registered(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("ParticipantRegistered").args
    return 201, {"address": args["account"], "kind": ParticipantKind(args["kind"]).name.title(),
                 "jurisdiction": ascii_code(args["jurisdiction"]), "identity_hash": args["identityHash"],
                 "custodial": bool(outcome.context.get("custodial", False))}


async def attest_kyc(gateway: Gateway, ctx: WriteContext, account: str, body: KycAttestation) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.BANK)
    call = gateway.call(
        "ParticipantRegistry", "attestKyc", account, KYC_STATUS[body.status.value], body.expiry,
        bytes.fromhex(body.evidence_hash[2:]), operation="participants.kyc",
    )
    return await submit(gateway, ctx, call, {"account": account, **body.model_dump(mode="json")})


@register_result("participants.kyc")
def _kyc(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    args = outcome.event("KycAttested").args
    return 200, {"account": args["account"], "bank": args["bank"], "status": KYC_NAMES[args["status"]],
                 "expiry": args["expiry"], "evidence_hash": args["evidenceHash"]}


async def set_participant_frozen(gateway: Gateway, ctx: WriteContext, account: str, frozen: bool,
                                 body: FreezeRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.REGULATOR)
    function = "freezeParticipant" if frozen else "unfreezeParticipant"
    call = gateway.call("ParticipantRegistry", function, account, bytes32_of(body.reason),
                        operation="participants.freeze")
    return await submit(gateway, ctx, call, {"account": account, "frozen": frozen, **body.model_dump(mode="json")})


async def set_instrument_frozen(gateway: Gateway, ctx: WriteContext, contract: str, instrument_id: int,
                                frozen: bool, body: FreezeRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.REGULATOR)
    address = _instrument_address(gateway, contract)
    function = "freezeInstrument" if frozen else "unfreezeInstrument"
    call = gateway.call("ParticipantRegistry", function, address, instrument_id, bytes32_of(body.reason),
                        operation="participants.freeze")
    payload = {"contract": address, "instrument_id": instrument_id, "frozen": frozen, **body.model_dump(mode="json")}
    return await submit(gateway, ctx, call, payload)


def _instrument_address(gateway: Gateway, contract: str) -> str:
    if contract in gateway.deployment.addresses:
        return gateway.deployment.address(contract)
    for address in gateway.deployment.addresses.values():
        if address.lower() == contract.lower():
            return address
    raise NotFound("unknown instrument contract", {"contract": contract,
                   "known": sorted(gateway.deployment.addresses)}, code="InstrumentContractUnknown")


@register_result("participants.freeze")
def _freeze(outcome: TxOutcome) -> tuple[int, dict[str, Any]]:
    for event in outcome.events:
        args = event.args
        if event.name in ("ParticipantFrozen", "ParticipantUnfrozen"):
            return 200, {"subject": args["account"], "frozen": event.name == "ParticipantFrozen",
                         "regulator": args["regulator"], "reason_code": args["reasonCode"]}
        if event.name in ("InstrumentFrozen", "InstrumentUnfrozen"):
            return 200, {"subject": f"{args['instrument']}:{args['instrumentId']}",
                         "frozen": event.name == "InstrumentFrozen", "regulator": args["regulator"],
                         "reason_code": args["reasonCode"]}
    raise LookupError("no freeze event")


async def get_participant(gateway: Gateway, account: str) -> dict[str, Any]:
    (record,), (active,), (identity,) = await gateway.chain.read_many([
        (gateway.contract("ParticipantRegistry"), _fn(gateway, "participant"), (account,)),
        (gateway.contract("ParticipantRegistry"), _fn(gateway, "isActive"), (account,)),
        (gateway.contract("ParticipantRegistry"), _fn(gateway, "identityHashOf"), (account,)),
    ])
    kind, jurisdiction, frozen, kyc_status, kyc_expiry, kyc_bank = record
    if kind == 0:
        raise NotFound("not a registered participant", {"address": account}, code="ParticipantUnknown")
    return {
        "address": account, "kind": ParticipantKind(kind).name.title(),
        "jurisdiction": jurisdiction.decode("ascii", "replace"), "active": active, "frozen": frozen,
        "kyc_status": KYC_NAMES.get(kyc_status, str(kyc_status)), "kyc_expiry": kyc_expiry,
        "kyc_bank": None if kyc_bank == ZERO_ADDRESS else kyc_bank, "identity_hash": "0x" + identity.hex(),
    }


def _fn(gateway: Gateway, name: str):  # type: ignore[no-untyped-def]
    return gateway.abi.function("ParticipantRegistry", name)
