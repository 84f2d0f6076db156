"""Participants and KYC: the operator registers (with the participant's own address, or without one: then
the gateway creates and holds the participant's key) and links further wallets of a legal identity; each bank
attests its own KYC review of a corporate (it changes only its own attestation); the regulator revokes every
KYC attestation of an identity and freezes participants and instruments."""

from __future__ import annotations

import asyncio
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.chain.signer import Signer
from app.chain.types import TxOutcome, WriteAnswer
from app.core.enums import KycStatus, ParticipantKind, name_of
from app.core.errors import Invalid, NotFound
from app.db.models import CustodialKey
from app.schemas.index import CONTRACT_OF_KIND
from app.schemas.participants import (
    FreezeChanged,
    FreezeRequest,
    KycAttestation,
    KycAttested,
    KycRevocation,
    KycRevoked,
    ParticipantCreate,
    ParticipantRegistered,
    WalletLink,
    WalletLinked,
)
from app.services.base import (
    Gateway,
    WriteContext,
    ascii_code,
    bytes32_of,
    require_kind,
    submit,
)
from app.services.results import register_result

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


async def register(gateway: Gateway, ctx: WriteContext, body: ParticipantCreate) -> WriteAnswer:
    """Register a participant. Without an address, the gateway creates the participant's key in an
    encrypted keystore and signs for it from now on (custody): the key is created, and recorded under the
    operator's Idempotency-Key, before the registration is sent, so a repeated request reuses it."""
    await require_kind(gateway, ctx.caller, ParticipantKind.Operator)
    address = body.address or await _custodial_address(gateway, ctx)
    call = gateway.call(
        "ParticipantRegistry", "registerParticipant", address, ParticipantKind[body.kind.value].value,
        body.jurisdiction.encode(), bytes.fromhex(body.identity_hash[2:]), operation="participants.register",
        custodial=body.address is None,
    )
    return await submit(gateway, ctx, call, body.model_dump(mode="json"))


async def link_wallet(gateway: Gateway, ctx: WriteContext, existing: str, body: WalletLink) -> WriteAnswer:
    """Link a further wallet to the legal identity of `existing` (same kind, jurisdiction, KYC and freeze). Without
    a wallet address the gateway creates the wallet's key, as for a custodial registration."""
    await require_kind(gateway, ctx.caller, ParticipantKind.Operator)
    wallet = body.wallet or await _custodial_address(gateway, ctx)
    call = gateway.call("ParticipantRegistry", "linkWallet", wallet, existing, operation="participants.link_wallet",
                        custodial=body.wallet is None)
    return await submit(gateway, ctx, call, {"existing": existing, **body.model_dump(mode="json")})


@register_result("participants.link_wallet", WalletLinked, created=True)
def _linked(outcome: TxOutcome) -> dict[str, Any]:
    linked = outcome.event("WalletLinked").args
    registered = outcome.event("ParticipantRegistered").args
    return {"wallet": linked["wallet"], "existing": linked["existing"], "identity_hash": linked["identityHash"],
                 "kind": _kind_name(registered["kind"]), "jurisdiction": ascii_code(registered["jurisdiction"]),
                 "custodial": bool(outcome.context.get("custodial", False))}


async def _custodial_address(gateway: Gateway, ctx: WriteContext) -> str:
    if ctx.prepare or ctx.signed is not None:  # a key of the gateway's own making is for a custodial write only
        raise Invalid("a participant or wallet without an address is a key the gateway holds (custody): register it "
                      "with the gateway's key, or give the address of the participant's own key",
                      code="CustodialKeyNotSigned")
    address, signer = await asyncio.to_thread(_custodial_key, gateway, ctx)
    if signer is not None:
        gateway.chain.add_signer(signer)
    return address


def _custodial_key(gateway: Gateway, ctx: WriteContext) -> tuple[str, Signer | None]:
    """(address, its new signer) for this request (a custodial registration or wallet link); (the address
    recorded earlier, None) for a repeat. When the Idempotency-Key already belongs to a request that made no
    key, (zero address, None): the chain client replays that answer (or refuses a different request) and
    sends nothing, so no key is made."""
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


@register_result("participants.register", ParticipantRegistered, created=True)
def _registered(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("ParticipantRegistered").args
    return {"address": args["account"], "kind": _kind_name(args["kind"]),
                 "jurisdiction": ascii_code(args["jurisdiction"]), "identity_hash": args["identityHash"],
                 "custodial": bool(outcome.context.get("custodial", False))}


async def attest_kyc(gateway: Gateway, ctx: WriteContext, account: str, body: KycAttestation) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Bank)
    call = gateway.call(
        "ParticipantRegistry", "attestKyc", account, KycStatus[body.status.value].value, body.expiry,
        bytes.fromhex(body.evidence_hash[2:]), operation="participants.kyc",
    )
    return await submit(gateway, ctx, call, {"account": account, **body.model_dump(mode="json")})


@register_result("participants.kyc", KycAttested)
def _kyc(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("KycAttested").args
    return {"account": args["account"], "bank": args["bank"], "status": KycStatus(args["status"]).name,
                 "expiry": args["expiry"], "evidence_hash": args["evidenceHash"],
                 "kyc_valid_until": _valid_until(outcome)}


def _valid_until(outcome: TxOutcome) -> int | None:
    changed = outcome.events_named("KycValidityChanged")
    return changed[-1].args["validUntil"] if changed else None


async def revoke_kyc(gateway: Gateway, ctx: WriteContext, account: str, body: KycRevocation) -> WriteAnswer:
    """The regulator revokes every bank's KYC attestation of `account`'s identity (banks may attest afresh)."""
    await require_kind(gateway, ctx.caller, ParticipantKind.Regulator)
    call = gateway.call("ParticipantRegistry", "revokeKyc", account, bytes32_of(body.reason),
                        operation="participants.kyc_revoke")
    return await submit(gateway, ctx, call, {"account": account, **body.model_dump(mode="json")})


@register_result("participants.kyc_revoke", KycRevoked)
def _kyc_revoked(outcome: TxOutcome) -> dict[str, Any]:
    args = outcome.event("KycRevokedByRegulator").args
    return {"account": args["account"], "regulator": args["regulator"], "reason_code": args["reasonCode"],
                 "kyc_valid_until": _valid_until(outcome) or 0}


async def set_participant_frozen(gateway: Gateway, ctx: WriteContext, account: str, frozen: bool,
                                 body: FreezeRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Regulator)
    function = "freezeParticipant" if frozen else "unfreezeParticipant"
    call = gateway.call("ParticipantRegistry", function, account, bytes32_of(body.reason),
                        operation="participants.freeze")
    return await submit(gateway, ctx, call, {"account": account, "frozen": frozen, **body.model_dump(mode="json")})


async def set_instrument_frozen(gateway: Gateway, ctx: WriteContext, contract: str, instrument_id: int,
                                frozen: bool, body: FreezeRequest) -> WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Regulator)
    address = _instrument_address(gateway, contract)
    function = "freezeInstrument" if frozen else "unfreezeInstrument"
    call = gateway.call("ParticipantRegistry", function, address, instrument_id, bytes32_of(body.reason),
                        operation="participants.freeze")
    payload = {"contract": address, "instrument_id": instrument_id, "frozen": frozen, **body.model_dump(mode="json")}
    return await submit(gateway, ctx, call, payload)


def _instrument_address(gateway: Gateway, contract: str) -> str:
    """The contract holding instruments of a kind as the read routes name it (`invoice`, `financing`,
    `certificate`, `letter_of_credit`); the deployed contract's name or address is accepted too."""
    contract = CONTRACT_OF_KIND.get(contract, contract)
    if contract in gateway.deployment.addresses:
        return gateway.deployment.address(contract)
    for address in gateway.deployment.addresses.values():
        if address.lower() == contract.lower():
            return address
    raise NotFound("unknown instrument kind", {"contract": contract, "known": sorted(CONTRACT_OF_KIND)},
                   code="InstrumentContractUnknown")


@register_result("participants.freeze", FreezeChanged)
def _freeze(outcome: TxOutcome) -> dict[str, Any]:
    for event in outcome.events:
        args = event.args
        if event.name in ("ParticipantFrozen", "ParticipantUnfrozen"):
            return {"subject": args["account"], "frozen": event.name == "ParticipantFrozen",
                         "regulator": args["regulator"], "reason_code": args["reasonCode"]}
        if event.name in ("InstrumentFrozen", "InstrumentUnfrozen"):
            return {"subject": f"{args['instrument']}:{args['instrumentId']}",
                         "frozen": event.name == "InstrumentFrozen", "regulator": args["regulator"],
                         "reason_code": args["reasonCode"]}
    raise LookupError("no freeze event")


async def get_participant(gateway: Gateway, account: str) -> dict[str, Any]:
    registry = gateway.contract("ParticipantRegistry")
    reads = ("participant", "isActive", "identityHashOf", "walletsOf", "kycBanksOf")
    (record,), (active,), (identity,), (wallets,), (banks,) = await gateway.chain.read_many(
        [(registry, _fn(gateway, name), (account,)) for name in reads])
    kind, jurisdiction, frozen, _roles, kyc_valid_until = record
    if kind == ParticipantKind["None"]:
        raise NotFound("not a registered participant", {"address": account}, code="ParticipantUnknown")
    attestations = await gateway.chain.read_many(
        [(registry, _fn(gateway, "kycAttestation"), (account, bank)) for bank in banks]) if banks else []
    return {
        "address": account, "kind": _kind_name(kind), "jurisdiction": jurisdiction.decode("ascii", "replace"),
        "active": active, "frozen": frozen, "kyc_valid_until": kyc_valid_until,
        "kyc_attestations": [{"bank": to_checksum_address(bank), "status": name_of(KycStatus, status),
                              "expiry": expiry} for bank, ((status, expiry),) in zip(banks, attestations)],
        "identity_hash": "0x" + identity.hex(), "wallets": [to_checksum_address(w) for w in wallets],
    }


def _kind_name(value: int) -> str:
    try:
        return ParticipantKind(value).name
    except ValueError:  # a kind this gateway does not know yet: say so rather than fail
        return f"Kind{value}"


def _fn(gateway: Gateway, name: str):  # type: ignore[no-untyped-def]
    return gateway.abi.function("ParticipantRegistry", name)
