"""Signed requests (ERC-2771): a participant that keeps its own key signs what the custodial route would send, and
the gateway relays it from a relayer account of its own.

    POST <write route>:prepare      the same body → the route runs as for a custodial write up to the chain:
                                    the call is preflighted as the participant (a revert is answered as today),
                                    then, instead of sending, the EIP-712 `ForwardRequest` to sign is answered
                                    (`prepare`) and the request kept (`PreparedRequest`) under its digest
    POST /v1/signed-requests        typed data + signature, under an Idempotency-Key → the signature is checked
                                    (`check_submission`), the kept request is run through its own route again
                                    (app/api/routes/signed_requests.py), and the route's `submit` relays it
                                    (`relay`): it answers what the custodial route answers

The relayer cannot alter what was signed (the forwarder checks the signature over every field and the signer's
nonce), and the gateway sends only what its route would send now: a request the route now builds differently is
refused (`SignedRequestChanged`) and nothing is sent. A participant's requests go through one relayer lane (the
forwarder takes its nonces in order), in nonce order (`app.chain.relay_order`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from eth_account import Account
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as EthValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.chain.errors import ContractReverted
from app.chain.outbox import request_row
from app.chain.relay_order import FORWARD_NONCE
from app.chain.types import ContractCall, RelayedCall, Reverted, WriteAnswer, WriteJob
from app.core import forward_requests as fr
from app.core.errors import ApiError, Conflict, Forbidden, Invalid, NotFound, Unavailable
from app.core.forward_requests import to_checksum_address
from app.db.models import PreparedRequest, RequestState
from app.services.answers import PENDING_STATUS
from app.services.base import Gateway, WriteContext

FORWARDER = "Forwarder"
# How long a prepared request holds its forwarder nonce for its own submission (wall clock): requests prepared
# meanwhile get the following nonces, so a client may prepare several and sign them together. One not submitted
# by then (its signing abandoned) gives its nonce to the next request prepared; submitted later, it is refused
# (`SignedRequestNonceUsed`), or by the forwarder should another with that nonce be executed first.
NONCE_HOLD_SECONDS = 120


class Prepared(Exception):
    """Not an error: the answer of a `:prepare` route (200), raised by `submit` instead of sending."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__("prepared")
        self.body = body


class PreparedCall(NamedTuple):
    """A request as a write route received it when it was prepared (`PreparedRequest`): run again on submission."""

    method: str
    path: str
    body: bytes


@dataclass(frozen=True)
class Submission:
    """A signed request checked by `check_submission`, on its way through its route (`WriteContext.signed`)."""

    request: fr.ForwardRequest
    signature: bytes
    digest: str


def relayer_of(gateway: Gateway, participant: str) -> str:
    """The relayer that sends `participant`'s requests: always the same one, so its requests keep their order."""
    relayers = gateway.settings.relayers
    if not relayers:
        raise Unavailable("this gateway relays no signed requests (no relayer is configured: TRADEFIN_RELAYERS); "
                          "nothing was sent", code="NoRelayer")
    return to_checksum_address(relayers[int(participant, 16) % len(relayers)])


async def _now_and_forwarder_nonce(gateway: Gateway, participant: str) -> tuple[int, int]:
    """Chain time and the participant's next forwarder nonce on chain, in one JSON-RPC batch."""
    nonces = gateway.abi.function(gateway.deployment.contract_type(FORWARDER), "nonces")
    now, ((nonce,),) = await gateway.chain.read_at_head([(gateway.contract(FORWARDER), nonces, (participant,))])
    return now, int(nonce)


# ───────────────────────────── prepare ─────────────────────────────

# One participant's preparations one at a time (its nonces are reserved in order); others' in parallel.
_reserving: dict[str, asyncio.Lock] = {}
# Prepared requests a participant may have waiting at once (unexpired, not yet relayed or refused).
MAX_WAITING_PREPARED = 1_000
# Rows of prepared requests are kept this long past their deadline (the audit of what was asked), then pruned.
PREPARED_KEEP_SECONDS = 86_400
# ECDSA signatures the forwarder accepts (OpenZeppelin's `ECDSA.tryRecover`): v 27 or 28, s in the lower half.
_SECP256K1_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


async def prepare(gateway: Gateway, ctx: WriteContext, call: ContractCall,
                  payload: dict[str, Any]) -> WriteAnswer:
    """Answer (raise `Prepared`) the typed data the caller signs for `call`, after a preflight as the caller, and
    keep the request under its digest. A refusal is the write's: stored under the caller's Idempotency-Key, as a
    custodial write's refusal at preflight is (so the regulator's record of refused duplicate registrations has
    it), and returned; a key already answered returns its answer."""
    participant = to_checksum_address(ctx.caller.address)
    forwarder = gateway.contract(FORWARDER)
    relayer = relayer_of(gateway, participant)
    fingerprint = ctx.fingerprint(payload)
    record = await asyncio.to_thread(gateway.chain.outbox.find_request, participant, ctx.idempotency_key)
    if record is not None:
        if record.fingerprint != fingerprint or (
                record.state == RequestState.DONE and not 200 <= (record.http_status or 200) < 300):
            return gateway.chain.replay(record, ctx.idempotency_key, fingerprint)
        raise Conflict("this Idempotency-Key belongs to a write already sent; nothing was prepared: prepare under a "
                       "new key", {"idempotency_key": ctx.idempotency_key}, code="IdempotencyKeyAlreadyWritten")
    try:
        gas = await gateway.chain.estimate(participant, call)
    except ContractReverted as reverted:
        return await _refused(gateway, ctx, participant, fingerprint, call, reverted)
    forward_gas = gateway.chain.fees.gas_limit(gas)
    ttl = gateway.settings.signed_request_ttl_seconds
    async with _reserving.setdefault(participant, asyncio.Lock()):
        now, onchain = await _now_and_forwarder_nonce(gateway, participant)
        request = fr.ForwardRequest(participant, call.to, forward_gas, 0, now + ttl, call.data)
        first = gateway.chain.relay_order.next(participant, onchain)
        stored, digest, kept = await asyncio.to_thread(_reserve, gateway, ctx, request, first, now)
    if kept is not None:
        remember_prepared(gateway, digest, kept)
    typed = fr.typed_data(stored, gateway.settings.chain_id, forwarder)
    raise Prepared({"typed_data": typed, "digest": digest,
                    "relayer": relayer, "expires_at": stored.deadline})


async def _refused(gateway: Gateway, ctx: WriteContext, participant: str, fingerprint: str, call: ContractCall,
                   reverted: ContractReverted) -> WriteAnswer:
    answer = gateway.chain.render(Reverted(reverted))
    job = WriteJob(participant, ctx.idempotency_key, fingerprint, call, None)
    outbox = gateway.chain.outbox
    try:
        await outbox.commit(outbox.store_group, [(None, request_row(job) | {
            "http_status": answer.http_status, "response": answer.body})], [])
    except IntegrityError:  # the same key, at the same moment: its answer is the one stored
        record = await asyncio.to_thread(outbox.find_request, participant, ctx.idempotency_key)
        if record is not None and record.state == RequestState.DONE:
            return gateway.chain.replay(record, ctx.idempotency_key, fingerprint)
    return answer


def _digest(request: fr.ForwardRequest, gateway: Gateway) -> str:
    return "0x" + fr.digest(request, gateway.settings.chain_id, gateway.contract(FORWARDER)).hex()


def _reserve(gateway: Gateway, ctx: WriteContext, request: fr.ForwardRequest, first: int,
             now: int) -> tuple[fr.ForwardRequest, str, PreparedCall | None]:
    """`request` with the participant's lowest forwarder nonce from `first` on (its next one neither executed nor
    handed to a lane) that no request prepared in the last NONCE_HOLD_SECONDS holds, kept under its digest; that
    digest; and the request kept, unless one was kept under that digest already."""
    kept = None
    since = datetime.now(UTC) - timedelta(seconds=NONCE_HOLD_SECONDS)
    mine = PreparedRequest.participant == request.sender
    with gateway.sessions.begin() as session:
        session.execute(delete(PreparedRequest).where(mine, PreparedRequest.deadline < now - PREPARED_KEEP_SECONDS))
        waiting = session.scalar(select(func.count()).select_from(PreparedRequest).where(
            mine, PreparedRequest.deadline > now, PreparedRequest.released.is_(False))) or 0
        if waiting >= MAX_WAITING_PREPARED:
            raise Conflict(f"{waiting} prepared requests of yours are waiting to be signed and submitted; submit or let "
                           "them expire first", {"waiting": waiting}, code="TooManyPreparedRequests")
        held = set(session.scalars(select(PreparedRequest.nonce).where(
            mine, PreparedRequest.nonce >= first, PreparedRequest.deadline > now,
            PreparedRequest.released.is_(False), PreparedRequest.created_at > since)))
        nonce = first
        while nonce in held:
            nonce += 1
        request = fr.ForwardRequest(request.sender, request.to, request.gas, nonce, request.deadline, request.data)
        digest = _digest(request, gateway)
        if session.scalar(select(PreparedRequest.id).where(PreparedRequest.digest == digest)) is None:
            session.add(PreparedRequest(digest=digest, participant=request.sender, nonce=nonce,
                                        deadline=request.deadline, method="POST", path=ctx.path, body=ctx.body))
            kept = PreparedCall("POST", ctx.path, ctx.body)
    return request, digest, kept


# Prepared requests this process keeps in memory as well (the most recent, with a body of at most
# PREPARED_HERE_MAX_BODY bytes: at most 32 MB in all), so that a submission finds its request without a database
# read; one prepared by another process, before a restart, or with a larger body is read from the database.
PREPARED_HERE_SIZE = 4_096
PREPARED_HERE_MAX_BODY = 8_192


def remember_prepared(gateway: Gateway, digest: str, prepared: PreparedCall) -> None:
    """Kept after its row is committed, by the event loop's thread. A row is never changed but to release its nonce,
    which a submission does not read: the request it was prepared for stays the same."""
    if len(prepared.body) > PREPARED_HERE_MAX_BODY:
        return
    memo = gateway.prepared_here
    memo[digest] = prepared
    while len(memo) > PREPARED_HERE_SIZE:
        memo.pop(next(iter(memo)))


# ───────────────────────────── submit ─────────────────────────────

async def check_submission(gateway: Gateway, caller: str, typed_data: dict[str, Any],
                           signature: str) -> tuple[Submission, PreparedCall]:
    """The signed request as the gateway prepared it, signed by the caller, and the request prepared: else a named
    refusal (nothing sent)."""
    submission = _signed_by_caller(gateway, caller, typed_data, signature)
    prepared = gateway.prepared_here.get(submission.digest) or await asyncio.to_thread(
        _find_prepared, gateway, submission.digest)
    if prepared is None:
        raise NotFound("no request was prepared with this exact content: prepare it (`POST <route>:prepare`) and "
                       "sign the typed data it answers, unchanged", {"digest": submission.digest},
                       code="SignedRequestUnknown")
    return submission, prepared


def _find_prepared(gateway: Gateway, digest: str) -> PreparedCall | None:
    with gateway.sessions() as session:
        row = session.connection().execute(select(PreparedRequest.method, PreparedRequest.path, PreparedRequest.body)
                                           .where(PreparedRequest.digest == digest)).first()
    return None if row is None else PreparedCall(*row)


def _signed_by_caller(gateway: Gateway, caller: str, typed_data: dict[str, Any], signature: str) -> Submission:
    try:
        request = fr.ForwardRequest.from_message(typed_data["message"])
    except (KeyError, ValueError, TypeError) as exc:
        raise Invalid(f"typed_data.message is not a ForwardRequest ({exc})", code="SignedRequestMalformed") from None
    expected = fr.domain(gateway.settings.chain_id, gateway.contract(FORWARDER))
    if typed_data.get("domain") != expected or typed_data.get("primaryType") != "ForwardRequest":
        raise Invalid("the typed data is not a ForwardRequest of this platform's forwarder on this chain",
                      {"expected_domain": expected}, code="SignedRequestWrongDomain")
    digest = fr.digest(request, gateway.settings.chain_id, gateway.contract(FORWARDER))
    raw = bytes.fromhex(signature.removeprefix("0x"))
    try:
        # The forwarder accepts only v 27 or 28 and a low s: another form (which eth-keys would recover all the
        # same) would make the relayer pay for a transaction certain to revert.
        canonical = len(raw) == 65 and raw[64] in (27, 28) and int.from_bytes(raw[32:64], "big") <= _SECP256K1_HALF_N
        signer = Account._recover_hash(digest, signature=raw) if canonical else None
    except (ValueError, BadSignature, EthValidationError):  # not hex, not 65 bytes, no point on the curve
        signer = None
    if signer is None or signer != request.sender:
        raise Invalid("the signature is not the request's signer's (`from`) over this request, as a 65-byte (r, s, v) "
                      "signature with v 27 or 28 and a low s (EIP-2)",
                      {"from": request.sender, "recovered": signer}, code="SignedRequestBadSignature")
    if to_checksum_address(caller) != request.sender:
        raise Forbidden("a signed request is submitted with its signer's own API key",
                        {"from": request.sender, "caller": caller}, code="SignedRequestNotYours")
    return Submission(request, raw, "0x" + digest.hex())


async def relay(gateway: Gateway, ctx: WriteContext, call: ContractCall, payload: dict[str, Any]) -> WriteAnswer:
    """The route's write, relayed: the participant's checked signed request (`ctx.signed`), if it is exactly the
    call the route builds now, sent by its relayer; a repeated Idempotency-Key answers what the first one did."""
    submission = ctx.signed
    assert submission is not None
    participant = to_checksum_address(ctx.caller.address)
    fingerprint = ctx.fingerprint(payload)
    record = await asyncio.to_thread(gateway.chain.outbox.find_request, participant, ctx.idempotency_key)
    if record is not None:
        if record.fingerprint != fingerprint or record.state == RequestState.DONE:
            return gateway.chain.replay(record, ctx.idempotency_key, fingerprint)
        return await gateway.chain.repeat(participant, ctx.idempotency_key, fingerprint)  # stored, not answered yet
    try:
        answer = await _relay_checked(gateway, ctx, call, submission, participant, fingerprint)
    except ApiError as exc:
        if exc.code != "SignedRequestOutOfOrder":  # that one is submitted again once its predecessor is
            await asyncio.to_thread(_release, gateway, submission.digest)
        raise
    if not (200 <= answer.http_status < 300 or answer.http_status == PENDING_STATUS):
        await asyncio.to_thread(_release, gateway, submission.digest)  # not executed: its nonce may go to another
    return answer


def _release(gateway: Gateway, digest: str) -> None:
    """The prepared request is done with (refused, or not executed): its forwarder nonce is no longer held for it.
    Its signature stays valid on chain until its deadline, but a nonce is executed at most once: should the old
    request be executed by someone else first, the next one with that nonce is refused by the forwarder."""
    with gateway.sessions.begin() as session:
        session.execute(update(PreparedRequest).where(PreparedRequest.digest == digest).values(released=True))


async def _relay_checked(gateway: Gateway, ctx: WriteContext, call: ContractCall, submission: Submission,
                         participant: str, fingerprint: str) -> WriteAnswer:
    request = submission.request
    if to_checksum_address(call.to) != request.to or call.data != request.data:
        raise Conflict("the route would now send another call than the one signed (the chain moved since it was "
                       "prepared); nothing was sent: prepare and sign it again", {"digest": submission.digest},
                       code="SignedRequestChanged")
    now, onchain = await _now_and_forwarder_nonce(gateway, participant)
    if request.deadline <= now:
        raise Conflict("the signed request's deadline has passed; nothing was sent: prepare and sign it again",
                       {"deadline": request.deadline, "chain_time": now}, code="SignedRequestExpired")
    forwarder = gateway.contract(FORWARDER)
    outer = ContractCall(forwarder, gateway.abi.function(gateway.deployment.contract_type(FORWARDER), "execute")
                         .encode((fr.execute_argument(request, submission.signature),)), call.operation,
                         {**call.context, FORWARD_NONCE: request.nonce})  # stored: a restart resumes the order
    return await gateway.chain.relay(participant, ctx.idempotency_key, fingerprint, outer,
                                     relayer_of(gateway, participant), request.nonce, onchain,
                                     RelayedCall(participant, ContractCall(request.to, request.data, call.operation,
                                                                           outer.context), request.gas))
