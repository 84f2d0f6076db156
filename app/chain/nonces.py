"""One nonce owner per signer: the lane that allocates, signs, stores and sends, in nonce order.

web3.py asks the node for the pending nonce on every send, so concurrent requests sharing a key race
(measured: about 20% of 400 landed with 8 threads). Allocating under a lock but sending outside it
leaves permanent gaps. A lane therefore does all of it itself, one group at a time:

    preflight (one JSON-RPC batch of eth_createAccessList, which runs each call once and answers
               its gas or its revert: reverts are answered here, no nonce spent)
    → allocate consecutive nonces → sign → store every signed transaction in ONE database commit
    → send them in ONE JSON-RPC batch (group commit) → hand them to the receipt tracker.

Node answers are repaired, not surfaced: "already known" is success; "nonce too low" means the nonce
went elsewhere, so the job is re-signed at a fresh nonce; a transaction the node refused for good
leaves a gap that a zero-value transfer to self fills, so the later nonces of the group still land.
If the node cannot be reached at all, nothing was sent: the group's rows are removed, its nonces
released, and the callers answered 503 with nothing half-applied.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from app.chain.errors import ChainUnavailable, NodeErrorKind, RpcError
from app.chain.rpc import SEND
from app.chain.signer import Signer
from app.chain.types import Attempt, ContractCall, WriteAnswer, WriteJob
from app.core.errors import error_body, key_reused
from app.db.models import RequestState

if TYPE_CHECKING:
    from app.chain.client import ChainClient


log = logging.getLogger("tradefin.chain.lane")

FILLER_GAS = 21_000


class SenderLane:
    """The only place that assigns nonces for `signer`."""

    def __init__(self, signer: Signer, client: "ChainClient") -> None:
        self.signer = signer
        self.client = client
        self.next_nonce: int | None = None
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
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    def submit(self, job: WriteJob, front: bool = False) -> None:
        if front:
            self._queue.appendleft(job)
        else:
            self._queue.append(job)
        self._wakeup.set()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue:
                size = min(len(self._queue), self.client.settings.max_batch)
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
                            self.client.tracker.watch(job)
                        else:
                            self.client.fail(job, 503, error_body("GatewayError",
                                                                  f"nothing was sent: {type(exc).__name__}"))

    # ───────────────────────────── one group ─────────────────────────────

    async def _process(self, group: list[WriteJob]) -> None:
        started = time.perf_counter()
        group = await self._drop_answered(group)
        if not group:
            return
        preflight = self.client.preflight
        calls: list[tuple[str, list[Any]]] = [preflight.request(self.address, j.call) for j in group]
        count = None
        if self.next_nonce is None:
            calls.append(("eth_getTransactionCount", [self.address, "pending"]))
        try:
            answers = await self._read_batch(calls)
            if self.next_nonce is None:
                count = answers.pop()
            answers = await preflight.settle(self.address, group, answers, self._read_batch)
        except ChainUnavailable as exc:
            for job in group:
                self.client.fail(job, 503, error_body("ChainUnavailable", str(exc)))
            return
        if count is not None:
            if count.error is not None:
                for job in group:
                    self.client.fail(job, 503, error_body("ChainUnavailable", count.error.message))
                return
            self.next_nonce = max(int(count.result, 16), self.client.tracker.next_nonce_after(self.address))

        accepted: list[WriteJob] = []
        refused: list[tuple[WriteJob, WriteAnswer]] = []
        for job, answer in zip(group, answers):
            if answer.error is None:
                job.gas = self.client.gas_limit(answer.result)
                accepted.append(job)
            elif answer.error.revert_data is not None:
                reverted = self.client.decode_revert(answer.error.revert_data, job.call.to)
                refused.append((job, self.client.revert_answer(reverted)))
            else:
                self.client.fail(job, 503, error_body(answer.error.kind.value, answer.error.message))

        fees = self.client.fees.current()
        first_nonce = self.next_nonce
        for job in accepted:
            nonce = self.next_nonce
            self.next_nonce += 1
            job.attempts.append(self.sign(job.call, nonce, job.gas, *fees))

        signed = time.perf_counter()
        await self._store(accepted, refused)
        stored = time.perf_counter()
        if not accepted:
            return
        await self._send(accepted, first_nonce)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("lane %s: %d jobs; preflight+sign %.1f ms, store %.1f ms, send %.1f ms", self.address[:8],
                      len(group), (signed - started) * 1e3, (stored - signed) * 1e3,
                      (time.perf_counter() - stored) * 1e3)

    async def _read_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """A read-only batch, retried once if the node did not answer in time (reads are safe to repeat)."""
        try:
            return await self.client.rpc.batch(calls)
        except ChainUnavailable as exc:
            if exc.delivered is False:
                raise
            return await self.client.rpc.batch(calls)

    async def _drop_answered(self, group: list[WriteJob]) -> list[WriteJob]:
        """Answer the jobs whose key was already used (stored answer: replay it; different request:
        refuse), with one query for the group. Jobs re-signed after a failed attempt have a request."""
        fresh = [j for j in group if j.request_id is None]
        outbox, keys = self.client.outbox, [(j.signer, j.idempotency_key) for j in fresh]
        records = outbox.find_requests(keys) if outbox.inline_reads else await asyncio.to_thread(
            outbox.find_requests, keys)
        keep = []
        for job in group:
            record = records.get((job.signer, job.idempotency_key)) if job.request_id is None else None
            if record is None:
                keep.append(job)
            elif record.fingerprint != job.fingerprint:
                error = key_reused(job.idempotency_key)
                self.client.fail(job, error.status_code, error.body())
            elif record.state == RequestState.DONE:
                self.client.fail(job, record.http_status or 200, record.response or {}, replayed=True)
            else:  # stored by an earlier run and not recovered (cannot happen after `recover()`)
                self.client.fail(job, 503, error_body("RecoveryInProgress", "retry shortly"))
        return keep

    def sign(self, call: ContractCall, nonce: int, gas: int, max_fee: int, tip: int) -> Attempt:
        tx = {
            "type": 2,
            "chainId": self.client.chain_id,
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
        answered = [
            (job.request_id,
             self.client.request_row(job) | {"http_status": answer.http_status, "response": answer.body})
            for job, answer in refused
        ]
        pending = [
            (job.request_id, self.client.request_row(job), self.client.attempt_row(job, job.latest))
            for job in accepted
        ]
        ids = await self.client.outbox.commit(self.client.outbox.store_group, answered, pending)
        for job, (request_id, attempt_id) in zip(accepted, ids):
            job.request_id = request_id
            job.latest.id = attempt_id
        for job, answer in refused:
            self.client.resolve(job, answer)

    async def _send(self, jobs: list[WriteJob], first_nonce: int) -> None:
        # Watch before sending: a receipt can arrive before the batch's answer does. The jobs are "in hand"
        # (the block poll leaves them alone) until the lookup that follows the send has answered.
        tracker = self.client.tracker
        for job in jobs:
            tracker.watch(job, in_hand=True)
        try:
            answers = await self.client.rpc.batch([("eth_sendRawTransaction", ["0x" + j.latest.raw.hex()]) for j in jobs],
                                                  SEND)
        except ChainUnavailable as exc:
            if exc.delivered is False:
                # Nothing reached the node: undo the whole group so the callers may retry their keys.
                for job in jobs:
                    self.client.tracker.unwatch(job)
                await self.client.outbox.commit(self.client.outbox.forget_requests, [j.request_id for j in jobs])
                self.next_nonce = first_nonce
                for job in jobs:
                    self.client.fail(job, 503, error_body("ChainUnavailable", str(exc)))
                return
            # Maybe delivered: the rows are stored and watched; the tracker rebroadcasts or confirms them.
            tracker.release(jobs)
            return

        requeue: list[WriteJob] = []
        reprice: list[WriteJob] = []
        gaps: list[int] = []
        for job, answer in zip(jobs, answers):
            error = answer.error
            if error is None or error.kind is NodeErrorKind.ALREADY_KNOWN:
                continue
            self.client.tracker.unwatch(job)
            if error.kind is NodeErrorKind.NONCE_TOO_LOW:
                requeue.append(job)  # the nonce went to a transaction that is not ours: ours can never land
            elif error.kind in (NodeErrorKind.FEE_TOO_LOW, NodeErrorKind.REPLACEMENT_UNDERPRICED):
                reprice.append(job)
            else:
                gaps.append(job.latest.nonce)
                await self._give_up(job, error)
        tracker.release([j for j, a in zip(jobs, answers) if a.error is not None
                         and a.error.kind is not NodeErrorKind.ALREADY_KNOWN])
        tracker.check_soon([j for j, a in zip(jobs, answers)
                            if a.error is None or a.error.kind is NodeErrorKind.ALREADY_KNOWN])
        if requeue:
            await self.client.outbox.commit(self.client.outbox.supersede, [j.latest.id for j in requeue if j.latest.id])
            self.next_nonce = None  # ask the node again before the next group
            for job in reversed(requeue):
                self.submit(job, front=True)
        if reprice:
            await self.client.fees.refresh()
            for job in reprice:
                if not await self.replace(job):
                    gaps.append(job.latest.nonce)
        if gaps:
            await self._fill_gaps(gaps)

    async def replace(self, job: WriteJob, give_up_on_refusal: bool = True) -> bool:
        """Re-sign `job` at the same nonce with fees at least 12.5% above its last attempt (nodes want
        10% more to replace), store the new attempt, then send it. True when the node took it.

        The tracker replaces stuck transactions with `give_up_on_refusal=False`: an earlier attempt may
        still be mined, so a refusal only means "keep watching"."""
        last = job.latest
        max_fee, tip = self.client.fees.current()
        max_fee = max(max_fee, last.max_fee_per_gas * 9 // 8 + 1)
        tip = max(tip, last.max_priority_fee_per_gas * 9 // 8 + 1)
        attempt = self.sign(job.call, last.nonce, job.gas or last.gas, max_fee, tip)
        attempt.id = await self.client.outbox.commit(
            self.client.outbox.add_attempt, job.request_id, self.client.attempt_row(job, attempt)
        )
        job.attempts.append(attempt)
        self.client.tracker.watch(job)
        try:
            await self.client.rpc.call("eth_sendRawTransaction", ["0x" + attempt.raw.hex()])
        except ChainUnavailable:
            return True
        except RpcError as error:
            if error.kind is NodeErrorKind.ALREADY_KNOWN:
                return True
            if job.is_filler or not give_up_on_refusal:
                return False
            self.client.tracker.unwatch(job)
            await self._give_up(job, error)
            return False
        return True

    async def _give_up(self, job: WriteJob, error: RpcError) -> None:
        log.warning("node refused %s of %s: %s", job.latest.tx_hash, self.address, error.message)
        await self.client.outbox.commit(self.client.outbox.forget_requests, [job.request_id])
        self.client.fail(job, 503, error_body(error.kind.value, error.message))

    async def _fill_gaps(self, nonces: list[int]) -> None:
        """Zero-value transfers to self at `nonces`, so the later nonces already sent can be mined."""
        fees = self.client.fees.current()
        fillers = []
        for nonce in nonces:
            call = ContractCall(self.address, b"", "gap-filler")
            job = WriteJob(self.address, "", "", call, None, gas=FILLER_GAS)
            job.attempts.append(self.sign(call, nonce, FILLER_GAS, *fees))
            job.latest.id = await self.client.outbox.commit(
                self.client.outbox.add_attempt, None, self.client.attempt_row(job, job.latest)
            )
            fillers.append(job)
            self.client.tracker.watch(job)
        try:
            await self.client.rpc.batch([("eth_sendRawTransaction", ["0x" + j.latest.raw.hex()]) for j in fillers], SEND)
        except ChainUnavailable:
            pass  # stored and watched: the tracker rebroadcasts them
