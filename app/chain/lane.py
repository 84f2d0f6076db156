"""One nonce owner per signer: the lane that allocates, signs, stores and sends, in nonce order.

web3.py asks the node for the pending nonce on every send, so concurrent requests sharing a key race
(measured: about 20% of 400 landed with 8 threads). Allocating under a lock but sending outside it
leaves permanent gaps. A lane therefore does all of it itself, one group at a time:

    preflight (one JSON-RPC batch of eth_createAccessList, which runs each call once and answers
               its gas or its revert: reverts are answered here, no nonce spent)
    → allocate consecutive nonces → sign → store every signed transaction in ONE database commit
    → send them in ONE JSON-RPC batch (group commit) → hand them to the receipt tracker.

Node answers are repaired, not surfaced: "already known" is success; "nonce too low" means the nonce
went elsewhere, so the job is re-signed at a fresh nonce; "nonce too high" (a node that lost or never
had the nonces below) re-signs it once at the node's nonce; a transaction the node refused for good
is not kept (its row is deleted, its key may be retried), and when later nonces of the lane are
outstanding a zero-value transfer to self fills its nonce so they still land.
If the node cannot be reached at all, nothing was sent: the group's rows are removed, its nonces
released, and the callers answered 503 with nothing half-applied.

After any refusal the lane forgets its next nonce and asks the node again before its next group
(`_resync`): the node's pending count, above it the nonces of the lane's outstanding transactions, and
the holes between them, which the next requests take first. So a signer the node refused (e.g. one
without ETH) works again with its next request once the cause is gone, without a restart.

Gas money: the preflight batch also asks the signer's balance; a request whose gas (limit × max fee)
the balance cannot cover is answered 409 `InsufficientFundsForGas` (signer, balance, needed) before a
nonce is spent or anything is stored, so the same Idempotency-Key works once the signer is funded.

A lane's collaborators are narrow: the RPC client, the outbox, the receipt tracker it hands sent
transactions to, the fee policy, the preflight, the revert decoder, and two callbacks of its owner:
`render` (an outcome → the answer stored for replays) and `answer` (answer a job's caller).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.chain.errors import ChainError, ChainUnavailable, NodeErrorKind, RpcError
from app.chain.fees import FeePolicy
from app.chain.outbox import Outbox, attempt_row, request_row
from app.chain.preflight import Preflight
from app.chain.reverts import RevertDecoder
from app.chain.rpc import SEND, RpcClient, RpcResult
from app.chain.signer import Signer
from app.chain.tracker import ReceiptTracker, cancel_task
from app.chain.types import Attempt, ContractCall, NotSent, Outcome, Render, Reverted, WriteAnswer, WriteJob
from app.db.models import RequestState

log = logging.getLogger("tradefin.chain.lane")

# A zero-value transfer to self (a gap filler) costs exactly the intrinsic gas of a transaction.
FILLER_GAS = 21_000

# Answer a job's caller: an outcome (nothing stored for it), or a stored answer (stored, or replayed).
Answer = Callable[[WriteJob, "Outcome | WriteAnswer"], None]


def not_sent(code: str, message: str, details: dict[str, Any] | None = None) -> NotSent:
    return NotSent(code, message, details or {})


def insufficient_funds(signer: str, balance: int | None, needed: int, gas: int, max_fee_per_gas: int) -> NotSent:
    """`InsufficientFundsForGas`: the signer's ETH cannot pay for the gas. Nothing was sent or stored, so the
    same Idempotency-Key works once the signer's address is funded."""
    held = "an unknown amount of" if balance is None else f"{balance} wei of"
    return NotSent(
        NodeErrorKind.INSUFFICIENT_FUNDS.value,
        f"The signer {signer} holds {held} ETH for gas, less than the {needed} wei this request may cost "
        f"({gas} gas at up to {max_fee_per_gas} wei per gas). Fund the signer's address with ETH, then repeat "
        f"the request: nothing was sent, and the same Idempotency-Key may be used.",
        {"signer": signer, "balance": balance, "needed": needed,
         "shortfall": None if balance is None else max(needed - balance, 0),
         "gas": gas, "max_fee_per_gas": max_fee_per_gas})


# A relayed transaction's gas beyond what its signed request forwards: the intrinsic 21,000, the forwarder's own work
# (signature recovery, the signer's nonce, the target's `isTrustedForwarder`, its event; about 17,000 measured by
# bench/gas.py) with room to spare, and the 1/64 of the forwarded gas the EVM keeps back at a call (EIP-150).
RELAY_OVERHEAD_GAS = 60_000
CALLDATA_GAS_PER_BYTE = 16


def relay_gas_limit(forward_gas: int, calldata_bytes: int) -> int:
    """The gas limit of a relayer's `execute` transaction that forwards `forward_gas` to the participant's call:
    OpenZeppelin's forwarder refuses (consuming everything) when less than that reaches the call."""
    return forward_gas + forward_gas // 63 + RELAY_OVERHEAD_GAS + CALLDATA_GAS_PER_BYTE * calldata_bytes


def forward_gas_too_low(forward_gas: int, needed: int) -> NotSent:
    return not_sent("SignedRequestGasTooLow",
                    f"the signed request forwards {forward_gas} gas to its call, which now needs {needed}; nothing "
                    "was sent: prepare and sign it again", {"forward_gas": forward_gas, "needed": needed})


def key_reused(key: str) -> NotSent:
    return NotSent("IdempotencyKeyReused", "this Idempotency-Key was used for a different request",
                   {"idempotency_key": key})


@dataclass
class Refusals:
    """A sent batch's refused transactions, by what repairs them (`SenderLane._classify`)."""

    requeue: list[WriteJob] = field(default_factory=list)  # nonce too low: sign again at a fresh nonce
    resign: list[WriteJob] = field(default_factory=list)  # nonce too high (once): sign again at the node's nonce
    reprice: list[WriteJob] = field(default_factory=list)  # fee too low: replace at higher fees
    give_up: list[tuple[WriteJob, RpcError]] = field(default_factory=list)  # refused for good

    def __bool__(self) -> bool:
        return bool(self.requeue or self.resign or self.reprice or self.give_up)


@dataclass
class Admitted:
    """A preflighted group: the jobs to sign (gas set) and those refused by a contract (stored, answered)."""

    accepted: list[WriteJob]
    refused: list[tuple[WriteJob, WriteAnswer]]


class SenderLane:
    """The only place that assigns nonces for `signer`."""

    def __init__(self, signer: Signer, chain_id: int, *, rpc: RpcClient, outbox: Outbox, tracker: ReceiptTracker,
                 fees: FeePolicy, preflight: Preflight, reverts: RevertDecoder, render: Render, answer: Answer,
                 max_batch: int) -> None:
        self.signer = signer
        self.chain_id = chain_id
        self._rpc = rpc
        self._outbox = outbox
        self._tracker = tracker
        self._fees = fees
        self._preflight = preflight
        self._reverts = reverts
        self._render = render
        self._answer = answer
        self._max_batch = max_batch
        self.next_nonce: int | None = None
        self._holes: list[int] = []  # free nonces below next_nonce (a refused transaction's), taken first
        self._queue: deque[WriteJob] = deque()
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def address(self) -> str:
        return self.signer.address

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"lane-{self.address}")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    def submit(self, job: WriteJob, front: bool = False) -> None:
        if front:
            self._queue.appendleft(job)
        else:
            self._queue.append(job)
        self._wakeup.set()

    async def resign(self, job: WriteJob) -> None:
        """None of `job`'s attempts can be mined any more (their nonce went to another transaction, and the
        tracker no longer watches it): sign it again at a fresh nonce. Its request row stays."""
        await self._outbox.commit(self._outbox.supersede, [a.id for a in job.attempts if a.id])
        if job.is_filler:
            return
        job.attempts.clear()
        job.recovery_stage = job.nonce_gone_seen = 0
        self.next_nonce = None
        self.submit(job, front=True)

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                size = min(len(self._queue), self._max_batch)
                group = [self._queue.popleft() for _ in range(size)]
                try:
                    await self._process(group)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # never leave a caller waiting on a lane that failed
                    log.exception("lane %s failed a group of %d", self.address, len(group))
                    self.next_nonce = None
                    for job in group:
                        if job.future is not None and job.future.done():
                            continue
                        if job.request_id is not None and job.attempts and job.latest.id is not None:
                            # Stored (and maybe sent): it must not be answered "nothing applied";
                            # the tracker answers it when mined, or rebroadcasts it.
                            self._tracker.watch(job)
                        else:
                            self._answer(job, not_sent("GatewayError", f"nothing was sent: {type(exc).__name__}"))

    # ───────────────────────────── one group ─────────────────────────────

    async def _process(self, group: list[WriteJob]) -> None:
        """Preflight, sign, store, send one group (see the module's docstring)."""
        started = time.perf_counter()
        group = await self._drop_answered(group)
        if not group:
            return
        read = await self._preflight_group(group)
        if read is None:
            return
        answers, balance = read
        admitted = self._admit(group, answers, balance)
        # A caller that stopped waiting before its job was signed was answered "nothing was sent" (see
        # `ChainClient._wait`): nothing is sent for it. No await between this check and `_store`.
        unsent = [j for j in group if j.future is not None and j.future.done()]
        accepted = [j for j in admitted.accepted if j.future is None or not j.future.done()]
        if self.next_nonce is None and accepted:
            # The tracker re-signed a request meanwhile and asked for a resynchronisation: preflight again.
            for job in reversed(accepted):
                self.submit(job, front=True)
            accepted = []
        fees = self._fees.current()
        for job in accepted:
            job.attempts.append(self.sign(job.call, self._take_nonce(), job.gas, *fees))

        signed = time.perf_counter()
        await self._store(accepted, admitted.refused)
        stored = time.perf_counter()
        await self._forget_unsent(unsent)
        if not accepted:
            return
        await self._send(accepted)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("lane %s: %d jobs; preflight+sign %.1f ms, store %.1f ms, send %.1f ms", self.address[:8],
                      len(group), (signed - started) * 1e3, (stored - signed) * 1e3,
                      (time.perf_counter() - stored) * 1e3)

    async def _preflight_group(self, group: list[WriteJob]) -> tuple[list[RpcResult], int | None] | None:
        """One read batch: each job's preflight, the signer's balance, and (after a refusal) its pending nonce.
        None when the node could not answer: the group is answered `ChainUnavailable`, nothing was sent."""
        calls: list[tuple[str, list[Any]]] = [self._preflight.request(*j.preflight_as(self.address)) for j in group]
        calls.append(("eth_getBalance", [self.address, "latest"]))
        resync = self.next_nonce is None
        if resync:
            calls.append(("eth_getTransactionCount", [self.address, "pending"]))
        try:
            answers = await self._read_batch(calls)
            count = answers.pop() if resync else None
            funds = answers.pop()
            answers = await self._preflight.settle(self.address, group, answers, self._read_batch)
        except ChainUnavailable as exc:
            await self._refuse_unsent(group, not_sent("ChainUnavailable", str(exc)))
            return None
        if count is not None:
            if count.error is not None:
                await self._refuse_unsent(group, not_sent("ChainUnavailable", count.error.message))
                return None
            self._resync(int(count.result, 16))
        balance = int(funds.result, 16) if funds.error is None and funds.result else None
        return answers, balance

    def _admit(self, group: list[WriteJob], answers: list[RpcResult], balance: int | None) -> Admitted:
        """Each job's preflight answer: its gas limit, a contract's refusal (stored), or the node's (503); then
        the jobs whose gas, at the current max fee, the signer's balance still covers."""
        gassed: list[WriteJob] = []
        refused: list[tuple[WriteJob, WriteAnswer]] = []
        for job, answer in zip(group, answers):
            if answer.error is None:
                if job.inner is None:
                    job.gas = self._fees.gas_limit(answer.result)
                elif answer.result > job.inner.forward_gas:  # the signed request forwards less than it now needs
                    self._answer(job, forward_gas_too_low(job.inner.forward_gas, answer.result))
                    continue
                else:
                    job.gas = relay_gas_limit(job.inner.forward_gas, len(job.call.data))
                gassed.append(job)
            elif answer.error.revert_data is not None:
                reverted = self._reverts.decode(answer.error.revert_data, job.preflight_as(self.address)[1].to)
                refused.append((job, self._render(Reverted(reverted))))
            else:
                self._answer(job, not_sent(answer.error.kind.value, answer.error.message))
        max_fee = self._fees.current()[0]
        accepted: list[WriteJob] = []
        spent = 0
        for job in gassed:
            cost = job.gas * max_fee
            if balance is not None and spent + cost > balance:
                self._answer(job, insufficient_funds(self.address, balance, spent + cost, job.gas, max_fee))
                continue
            spent += cost
            accepted.append(job)
        return Admitted(accepted, refused)

    async def _refuse_unsent(self, jobs: list[WriteJob], outcome: NotSent) -> None:
        for job in jobs:
            self._answer(job, outcome)
        await self._forget_unsent(jobs)

    async def _forget_unsent(self, jobs: list[WriteJob]) -> None:
        """Jobs answered without being sent that have a request row (re-signed after their nonce went
        elsewhere, so none of their earlier attempts can be mined): forget it, so their keys may be retried."""
        stale = [j.request_id for j in jobs if j.request_id is not None]
        if stale:
            await self._outbox.commit(self._outbox.forget_requests, stale)

    def _take_nonce(self) -> int:
        if self._holes:
            return self._holes.pop(0)
        assert self.next_nonce is not None
        nonce = self.next_nonce
        self.next_nonce += 1
        return nonce

    def _resync(self, pending: int) -> None:
        """Next nonce from the node's pending count and the lane's outstanding transactions: above both,
        and the nonces in between that no outstanding transaction holds (holes) taken first."""
        held = self._tracker.nonces_of(self.address)
        top = max(held) + 1 if held else 0
        self.next_nonce = max(pending, top)
        self._holes = [n for n in range(pending, self.next_nonce) if n not in held]
        if self._holes:
            log.warning("lane %s: nonces %s are free below outstanding ones; the next requests take them",
                        self.address, self._holes[:10])

    async def _read_batch(self, calls: list[tuple[str, list[Any]]]) -> list[RpcResult]:
        """A read-only batch, retried once if the node did not answer in time (reads are safe to repeat)."""
        try:
            return await self._rpc.batch(calls)
        except ChainUnavailable as exc:
            if exc.delivered is False:
                raise
            return await self._rpc.batch(calls)

    async def _drop_answered(self, group: list[WriteJob]) -> list[WriteJob]:
        """Answer the jobs whose key was already used (stored answer: replay it; different request:
        refuse), with one query for the group. Jobs re-signed after a failed attempt have a request."""
        fresh = [j for j in group if j.request_id is None]
        outbox, keys = self._outbox, [(j.principal, j.idempotency_key) for j in fresh]
        records = outbox.find_requests(keys) if outbox.inline_reads else await asyncio.to_thread(
            outbox.find_requests, keys)
        keep = []
        for job in group:
            record = records.get((job.principal, job.idempotency_key)) if job.request_id is None else None
            if record is None:
                keep.append(job)
            elif record.fingerprint != job.fingerprint:
                self._answer(job, key_reused(job.idempotency_key))
            elif record.state == RequestState.DONE:
                self._answer(job, WriteAnswer(record.http_status or 200, record.response or {}, replayed=True))
            else:  # stored by an earlier run and not recovered (cannot happen after `recover()`)
                self._answer(job, not_sent("RecoveryInProgress", "retry shortly"))
        return keep

    def sign(self, call: ContractCall, nonce: int, gas: int, max_fee: int, tip: int) -> Attempt:
        tx = {
            "type": 2,
            "chainId": self.chain_id,
            "nonce": nonce,
            "to": call.to,
            "value": 0,
            "data": call.data,
            "gas": gas,
            "maxFeePerGas": max_fee,
            "maxPriorityFeePerGas": tip,
        }
        signed = self.signer.sign(tx)
        return Attempt(None, signed.tx_hash, signed.raw, nonce, gas, max_fee, tip)

    async def _store(self, accepted: list[WriteJob], refused: list[tuple[WriteJob, WriteAnswer]]) -> None:
        answered = [(job.request_id, request_row(job) | {"http_status": answer.http_status, "response": answer.body})
                    for job, answer in refused]
        pending = [(job.request_id, request_row(job), attempt_row(job, job.latest)) for job in accepted]
        ids = await self._outbox.commit(self._outbox.store_group, answered, pending)
        for job, (request_id, attempt_id) in zip(accepted, ids):
            job.request_id = request_id
            job.latest.id = attempt_id
        for job, answer in refused:
            self._answer(job, answer)

    # ───────────────────────────── send: classify, repair, undo ─────────────────────────────

    async def _send(self, jobs: list[WriteJob]) -> None:
        # Watch before sending: a receipt can arrive before the batch's answer does. The jobs are "in hand"
        # (the block poll leaves them alone) until the lookup that follows the send has answered.
        for job in jobs:
            self._tracker.watch(job, in_hand=True)
        try:
            answers = await self._rpc.batch([("eth_sendRawTransaction", ["0x" + j.latest.raw.hex()]) for j in jobs],
                                            SEND)
        except ChainUnavailable as exc:
            if exc.delivered is False:
                await self._undo(jobs, exc)
            else:  # maybe delivered: the rows are stored and watched; the tracker rebroadcasts or confirms them
                self._tracker.release(jobs)
            return
        refusals = self._classify(jobs, answers)
        if refusals:
            await self._repair(refusals)

    async def _undo(self, jobs: list[WriteJob], exc: ChainUnavailable) -> None:
        """Nothing of the batch reached the node: unwatch it, forget its requests (rows and nonces), answer
        `ChainUnavailable`, so the callers may repeat their keys."""
        for job in jobs:
            self._tracker.unwatch(job)
        await self._outbox.commit(self._outbox.forget_requests, [j.request_id for j in jobs])
        self.next_nonce = None  # ask the node again before the next group
        for job in jobs:
            self._answer(job, not_sent("ChainUnavailable", str(exc)))

    def _classify(self, jobs: list[WriteJob], answers: list[RpcResult]) -> Refusals:
        """Sort the node's answers to a sent batch: taken ("already known" too) are looked up at once;
        refused are unwatched and sorted by their repair. After any refusal the lane resynchronises."""
        refusals = Refusals()
        taken: list[WriteJob] = []
        refused: list[WriteJob] = []
        for job, answer in zip(jobs, answers):
            error = answer.error
            if error is None or error.kind is NodeErrorKind.ALREADY_KNOWN:
                taken.append(job)
                continue
            refused.append(job)
            self._tracker.unwatch(job)
            self.next_nonce = None
            if error.kind is NodeErrorKind.NONCE_TOO_LOW:
                refusals.requeue.append(job)  # the nonce went to a transaction that is not ours: ours can never land
            elif error.kind is NodeErrorKind.NONCE_TOO_HIGH and job.nonce_resyncs == 0:
                job.nonce_resyncs += 1
                refusals.resign.append(job)  # the node misses nonces below ours: sign it again at the node's nonce
            elif error.kind in (NodeErrorKind.FEE_TOO_LOW, NodeErrorKind.REPLACEMENT_UNDERPRICED):
                refusals.reprice.append(job)
            else:
                refusals.give_up.append((job, error))
        self._tracker.release(refused)
        self._tracker.check_soon(taken)
        return refusals

    async def _repair(self, refusals: Refusals) -> None:
        """Sign again what can still land, give up the rest (answered), and fill the nonces given up below
        transactions of ours that are still outstanding."""
        gaps: list[int] = []
        for job, error in refusals.give_up:
            gaps.append(job.latest.nonce)
            await self._give_up(job, error)
        if refusals.requeue:
            await self._outbox.commit(self._outbox.supersede, [j.latest.id for j in refusals.requeue if j.latest.id])
            for job in reversed(refusals.requeue):
                job.attempts.clear()  # refused, so never pooled; the request row stays and is signed again
                self.submit(job, front=True)
        if refusals.resign:
            # refused, so never in the node's pool: the row goes, the request stays and is signed again
            await self._outbox.commit(self._outbox.discard, [], [j.latest.id for j in refusals.resign if j.latest.id])
            for job in refusals.resign:
                job.attempts.pop()
            for job in reversed(refusals.resign):
                self.submit(job, front=True)
        if refusals.reprice:
            await self._fees.refresh()
            for job in refusals.reprice:
                if not await self.replace(job):
                    gaps.append(job.latest.nonce)
        # A refused nonce needs a filler only below a transaction of ours that is still outstanding; at the
        # top it is simply taken again by the next request (the lane resynchronises).
        outstanding = self._tracker.nonces_of(self.address)
        gaps = [n for n in gaps if any(o > n for o in outstanding) and n not in outstanding]
        if gaps:
            await self._fill_gaps(gaps)

    async def replace_stuck(self, job: WriteJob) -> bool:
        """The tracker's fee bump of a stuck transaction: an earlier attempt may still be mined, so a refusal
        only means "keep watching"."""
        return await self.replace(job, give_up_on_refusal=False)

    async def replace(self, job: WriteJob, give_up_on_refusal: bool = True) -> bool:
        """Re-sign `job` at the same nonce with fees at least 12.5% above its last attempt (`FeePolicy.bumped`),
        store the new attempt, then send it. True when the node took it."""
        last = job.latest
        capped = self._fees.bump_refusal(job)
        if capped is not None:
            log.warning("no fee bump for %s of %s: %s", last.tx_hash, self.address, capped)
            if give_up_on_refusal and not job.is_filler:
                self._tracker.unwatch(job)
                await self._give_up(job, RpcError(-32000, f"transaction underpriced and {capped}"))
            return False
        max_fee, tip = self._fees.bumped(job)
        job.fee_bumps += 1
        attempt = self.sign(job.call, last.nonce, job.gas or last.gas, max_fee, tip)
        attempt.id = await self._outbox.commit(self._outbox.add_attempt, job.request_id, attempt_row(job, attempt))
        job.attempts.append(attempt)
        self._tracker.watch(job)
        try:
            await self._rpc.call("eth_sendRawTransaction", ["0x" + attempt.raw.hex()])
        except ChainUnavailable:
            return True
        except RpcError as error:
            if error.kind is NodeErrorKind.ALREADY_KNOWN:
                return True
            if job.is_filler or not give_up_on_refusal:
                # Refused, so never pooled: not kept; the earlier attempts stay watched.
                self._tracker.forget_attempt(job, attempt)
                await self._outbox.commit(self._outbox.discard, [], [attempt.id])
                return False
            self._tracker.unwatch(job)
            await self._give_up(job, error)
            return False
        return True

    async def _give_up(self, job: WriteJob, error: RpcError) -> None:
        """The node refused the job's latest attempt for good (and, on every path here, each earlier one:
        a first send, a re-pricing of a refused send, a re-signing after "nonce too low"): their rows are
        deleted (in no pool, they can never be mined), the request forgotten so its key may be retried, and
        the caller answered: `InsufficientFundsForGas` with what is missing, the node's reason otherwise."""
        refused = job.latest
        log.warning("node refused %s of %s: %s", refused.tx_hash, self.address, error.message)
        await self._outbox.commit(self._outbox.discard, [job.request_id] if job.request_id is not None else [],
                                  [a.id for a in job.attempts if a.id is not None])
        self.next_nonce = None
        if error.kind is NodeErrorKind.INSUFFICIENT_FUNDS:
            try:
                balance = int(await self._rpc.call("eth_getBalance", [self.address, "latest"]), 16)
            except ChainError:
                balance = None
            cost = refused.gas * refused.max_fee_per_gas
            self._answer(job, insufficient_funds(self.address, balance, cost, refused.gas, refused.max_fee_per_gas))
            return
        self._answer(job, not_sent(error.kind.value, error.message))

    async def _fill_gaps(self, nonces: list[int]) -> None:
        """Zero-value transfers to self at `nonces`, so the later nonces already sent can be mined."""
        fees = self._fees.current()
        fillers = []
        for nonce in nonces:
            call = ContractCall(self.address, b"", "gap-filler")
            job = WriteJob(self.address, "", "", call, None, gas=FILLER_GAS)
            job.attempts.append(self.sign(call, nonce, FILLER_GAS, *fees))
            job.latest.id = await self._outbox.commit(self._outbox.add_attempt, None, attempt_row(job, job.latest))
            fillers.append(job)
            self._tracker.watch(job)
        try:
            answers = await self._rpc.batch(
                [("eth_sendRawTransaction", ["0x" + j.latest.raw.hex()]) for j in fillers], SEND)
        except ChainUnavailable:
            return  # stored and watched: the tracker rebroadcasts them
        refused = [(j, a.error) for j, a in zip(fillers, answers)
                   if a.error is not None and a.error.kind is not NodeErrorKind.ALREADY_KNOWN]
        if not refused:
            return
        # Not kept: the nonce stays free, and the lane's next request takes it (`_resync` finds the hole).
        for job, error in refused:
            log.warning("node refused the gap filler at nonce %d of %s: %s", job.latest.nonce, self.address,
                        error.message)
            self._tracker.unwatch(job)
        await self._outbox.commit(self._outbox.discard, [], [j.latest.id for j, _ in refused])
        self.next_nonce = None
