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

from app.chain.types import ContractCall, WriteAnswer
from app.core.enums import ParticipantKind
from app.core.errors import Conflict, Invalid
from app.db.models import ApiKey, CustodyRelease, utcnow
from app.schemas.participants import CustodyReleaseRequest
from app.services.api_keys import ApiKeyStore
from app.services.base import Gateway, WriteContext, require_kind

MOVE_PURPOSE = b"INTC"  # ISO 20022 intra-company payment: between two wallets of one legal identity


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
        await asyncio.to_thread(_destroy, gateway, address)  # a crash after the record: finish the removal
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
    try:
        await _link(gateway, ctx, address, wallet)
        moved = await _move_balances(gateway, ctx, address, wallet)
    except StepRefused as refused:
        return refused.answer
    sha256 = hashlib.sha256(gateway.keystores.path_for(address).read_bytes()).hexdigest()
    record = await asyncio.to_thread(_commit, gateway, ctx, address, wallet, sha256)
    api_keys.forget(address)
    await gateway.chain.remove_signer(address)
    await asyncio.to_thread(_destroy, gateway, address)
    return _public(record, moved)


async def _step(gateway: Gateway, ctx: WriteContext, signer: str, slug: str, call: ContractCall) -> WriteAnswer:
    key = f"{ctx.idempotency_key}:custody:{slug}"
    answer = await gateway.chain.execute(signer, key, hashlib.sha256(f"{ctx.route} {slug}".encode()).hexdigest(),
                                         call)
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


async def _move_balances(gateway: Gateway, ctx: WriteContext, address: str, wallet: str) -> list[dict[str, Any]]:
    moved = []
    for currency in gateway.currencies():
        token = gateway.token_name(currency)
        (balance,) = await gateway.read(token, "balanceOf", address)
        if balance == 0:
            continue
        answer = await _step(gateway, ctx, address, f"move-{currency}", gateway.call(
            token, "transferWithPurpose", wallet, balance, MOVE_PURPOSE,
            keccak(text=f"custody release {address} {wallet}"), operation="payments.transfer", currency=currency))
        moved.append({"currency": currency, "amount": balance, "tx_hash": answer.body.get("tx_hash")})
    return moved


def _fn(gateway: Gateway, name: str, function: str) -> Any:
    return gateway.abi.function(gateway.deployment.contract_type(name), function)


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

