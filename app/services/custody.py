"""Moving a participant from custody to its own key (issue 14).

`POST /v1/participants/{address}/custody/release` (operator), `{"wallet": <the participant's own address>}`:

1. the operator links the wallet to the participant's legal identity on chain (same kind, jurisdiction, KYC,
   freezes and roles: `ParticipantRegistry.linkWallet`), unless it is linked already;
2. every settlement-token balance of the custodial address moves to the wallet, signed one last time with the
   custodial key (`transferWithPurpose`, purpose `INTC`), so nothing is stranded behind a destroyed key;
3. in one database transaction the release is recorded (`CustodyRelease`: who, when, the keystore's SHA-256) and
   the participant's API keys are re-pointed to the wallet (it keeps its keys, and signs its requests from now on);
4. the keystore file is overwritten and removed, and its lane stopped: the gateway can no longer sign for the old
   address (its writes answer 403 `NoSigningKey`).

Each step is idempotent under the operator's Idempotency-Key (steps 1 and 2 run as writes with keys derived from
it), so a request repeated after a crash finishes what the first began and sends nothing twice; a repeat after the
release answers the record. A step refused (a frozen participant's transfer, a wallet of another identity) stops
the release before anything is destroyed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any

from eth_utils import keccak, to_checksum_address
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.chain.types import ContractCall, WriteAnswer
from app.core.enums import (
    CertificateState,
    CreditState,
    FinancingState,
    InvoiceState,
    ParticipantKind,
    PresentationState,
)
from app.core.errors import Conflict, Invalid
from app.db.index_models import Instrument, InstrumentParty
from app.db.models import ApiKey, CustodyRelease, utcnow
from app.schemas.participants import CustodyReleaseRequest
from app.services.api_keys import ApiKeyStore
from app.services.base import Gateway, WriteContext, require_kind

MOVE_PURPOSE = b"INTC"  # ISO 20022 intra-company payment: between two wallets of one legal identity
# Stored states in which an instrument needs nothing more of its parties: no step to take, no money to receive
# (`app.core.enums`). A custodial address party to any other instrument keeps its key: the contracts know it by
# its address, and a destroyed key would strand the instrument (and what it still pays to that address).
FINISHED_STATES: dict[str, frozenset[str]] = {
    "invoice": frozenset({InvoiceState.Paid.name, InvoiceState.Cancelled.name}),
    "financing": frozenset({FinancingState.Rejected.name, FinancingState.Withdrawn.name, FinancingState.Closed.name}),
    "certificate": frozenset({CertificateState.Settled.name, CertificateState.Split.name}),
    "letter_of_credit": frozenset({CreditState.Exhausted.name, CreditState.Cancelled.name}),
    "presentation": frozenset({PresentationState.Paid.name, PresentationState.Refused.name}),
}


class StepRefused(Exception):
    """A step of the release was refused: its answer is the release's answer; nothing was destroyed."""

    def __init__(self, answer: WriteAnswer) -> None:
        super().__init__("refused")
        self.answer = answer


async def release(gateway: Gateway, api_keys: ApiKeyStore, ctx: WriteContext, address: str,
                  body: CustodyReleaseRequest) -> dict[str, Any] | WriteAnswer:
    await require_kind(gateway, ctx.caller, ParticipantKind.Operator)
    address, wallet = to_checksum_address(address), to_checksum_address(body.wallet)
    done = await asyncio.to_thread(_record, gateway, address)
    if done is not None:
        if done.wallet != wallet:
            raise Conflict(f"{address} left custody already, for wallet {done.wallet}",
                           {"address": address, "wallet": done.wallet}, code="CustodyAlreadyReleased")
        await _finish(gateway, api_keys, address)  # a crash after the record: finish the removal
        return _public(done, [])
    if address == to_checksum_address(ctx.caller.address):
        raise Invalid("the operator cannot release its own key through itself", {"address": address},
                      code="CustodyReleaseOfSelf")
    relayers = {to_checksum_address(r) for r in gateway.settings.relayers}
    if not gateway.chain.has_signer(address) or address in relayers:
        raise Invalid(f"the gateway holds no key for {address}: it is not in custody", {"address": address},
                      code="NotInCustody")
    if wallet == address:
        raise Invalid("the wallet is the custodial address itself", {"wallet": wallet}, code="CustodyWalletInvalid")
    if gateway.chain.outstanding(address):
        raise Conflict(f"{address} has writes in flight: release it once they are answered",
                       {"address": address}, code="CustodyTransactionsInFlight")
    open_ones = await asyncio.to_thread(_open_instruments, gateway, address)
    if open_ones:
        raise Conflict(f"{address} is a party to {len(open_ones)} instrument(s) not finished, which the contracts "
                       "know by this address: its key stays until they are", {"address": address,
                       "instruments": open_ones[:10]}, code="CustodyOpenInstruments")
    try:
        await _link(gateway, ctx, address, wallet)
        moved = await _move_balances(gateway, ctx, address, wallet)
        left = await _balances(gateway, address)
    except StepRefused as refused:
        return refused.answer
    if any(left.values()):  # paid to the address while it moved: move that too by repeating the release
        raise Conflict("the address received funds while they moved; nothing was destroyed: repeat the release "
                       "with a new Idempotency-Key", {"address": address, "balances": left},
                       code="CustodyBalanceChanged")
    sha256 = hashlib.sha256(gateway.keystores.path_for(address).read_bytes()).hexdigest()
    try:
        record = await asyncio.to_thread(_commit, gateway, ctx, address, wallet, sha256)
    except IntegrityError:  # released at the same moment by another request
        raise Conflict(f"{address} was released by another request", {"address": address},
                       code="CustodyAlreadyReleased") from None
    await _finish(gateway, api_keys, address)
    return _public(record, moved)


async def _finish(gateway: Gateway, api_keys: ApiKeyStore, address: str) -> None:
    """After the release is recorded: nothing signs for the address any more, and its keystore is gone."""
    api_keys.forget(address)
    await gateway.chain.remove_signer(address)
    await asyncio.to_thread(_destroy, gateway, address)


async def _step(gateway: Gateway, ctx: WriteContext, signer: str, slug: str, call: ContractCall) -> WriteAnswer:
    """One write of the release, under a key derived from the operator's; its fingerprint is the call itself, so a
    repeat with another wallet or amount is refused (`IdempotencyKeyReused`) instead of answering the first."""
    key = f"{ctx.idempotency_key}:custody:{slug}"
    fingerprint = hashlib.sha256(f"{ctx.route} {slug} {call.to} {call.data.hex()}".encode()).hexdigest()
    answer = await gateway.chain.execute(signer, key, fingerprint, call)
    if not 200 <= answer.http_status < 300:
        raise StepRefused(answer)
    return answer


async def _link(gateway: Gateway, ctx: WriteContext, address: str, wallet: str) -> None:
    (identity,), (wallet_identity,) = await gateway.chain.read_many([
        (gateway.contract("ParticipantRegistry"), _fn(gateway, "ParticipantRegistry", "identityHashOf"), (a,))
        for a in (address, wallet)])
    if wallet_identity == identity:
        return  # linked already (a repeated release, or linked by the operator before)
    if int.from_bytes(wallet_identity, "big") != 0:
        raise Conflict(f"{wallet} belongs to another legal identity", {"wallet": wallet}, code="CustodyWalletTaken")
    await _step(gateway, ctx, ctx.caller.address, "link", gateway.call(
        "ParticipantRegistry", "linkWallet", wallet, address, operation="participants.link_wallet", custodial=False))


async def _balances(gateway: Gateway, address: str) -> dict[str, int]:
    return {currency: (await gateway.read(gateway.token_name(currency), "balanceOf", address))[0]
            for currency in gateway.currencies()}


async def _move_balances(gateway: Gateway, ctx: WriteContext, address: str, wallet: str) -> list[dict[str, Any]]:
    moved = []
    for currency, balance in (await _balances(gateway, address)).items():
        token = gateway.token_name(currency)
        if balance == 0:
            continue
        answer = await _step(gateway, ctx, address, f"move-{currency}", gateway.call(
            token, "transferWithPurpose", wallet, balance, MOVE_PURPOSE,
            keccak(text=f"custody release {address} {wallet}"), operation="payments.transfer", currency=currency))
        moved.append({"currency": currency, "amount": balance, "tx_hash": answer.body.get("tx_hash")})
    return moved


def _fn(gateway: Gateway, name: str, function: str) -> Any:
    return gateway.abi.function(gateway.deployment.contract_type(name), function)


def _open_instruments(gateway: Gateway, address: str) -> list[str]:
    """Uids of the indexed instruments `address` is a party to and that are not finished (`FINISHED_STATES`)."""
    with gateway.sessions() as session:
        rows = session.execute(select(Instrument.uid, Instrument.kind, Instrument.state)
                               .join(InstrumentParty, InstrumentParty.instrument == Instrument.uid)
                               .where(InstrumentParty.participant == address)).all()
    return sorted({uid for uid, kind, state in rows  # a payment is done once made
                   if kind != "payment" and state not in FINISHED_STATES.get(kind, frozenset())})


def _record(gateway: Gateway, address: str) -> CustodyRelease | None:
    with gateway.sessions() as session:
        return session.scalars(select(CustodyRelease).where(CustodyRelease.address == address)).first()


def _commit(gateway: Gateway, ctx: WriteContext, address: str, wallet: str, sha256: str) -> CustodyRelease:
    with gateway.sessions.begin() as session:
        keys = session.execute(update(ApiKey).where(ApiKey.participant == address).values(participant=wallet))
        record = CustodyRelease(address=address, wallet=wallet, released_by=ctx.caller.address,
                                idempotency_key=ctx.idempotency_key, keystore_sha256=sha256,
                                api_keys_repointed=keys.rowcount or 0, released_at=utcnow())
        session.add(record)
        session.flush()
        session.expunge(record)
    return record


def _destroy(gateway: Gateway, address: str) -> None:
    """Overwrite the keystore file, flush it, remove it."""
    path = gateway.keystores.path_for(address)
    if not path.exists():
        return
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.write(os.urandom(size))
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def _public(record: CustodyRelease, moved: list[dict[str, Any]]) -> dict[str, Any]:
    return {"address": record.address, "wallet": record.wallet, "moved": moved,
            "api_keys_repointed": record.api_keys_repointed, "keystore_sha256": record.keystore_sha256,
            "released_by": record.released_by, "released_at": record.released_at}

