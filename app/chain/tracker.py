"""The receipt tracker: one task that watches every outstanding transaction and heals stuck senders.

Receipts come by tight polling: every `receipt_poll_seconds` (5 ms by default) it asks for the block
number, and when blocks were added it fetches their receipts in one JSON-RPC batch
(`eth_getBlockReceipts`), so one poll serves every outstanding transaction at once. Right after each
send the lane also asks for that group's receipts (an automining node has them at once), so the poll
mostly serves interval-mined chains; 5 ms rather than 2 ms measured faster under load here (each poll
wakes both the gateway and the node). Found receipts are
decoded, their answers stored in one database commit, then the waiting requests are answered.

Self-healing (Anvil's automine can strand a burst from one sender, foundry issue 10122): when a
signer's lowest outstanding nonce has not been mined for `stuck_after_seconds`, the tracker
1. checks whether it was mined anyway (receipt by hash for every attempt) or its nonce went elsewhere
   (then the request is re-signed at a fresh nonce: none of its attempts can land any more);
2. otherwise rebroadcasts the stored bytes of the signer's outstanding transactions, in nonce order;
3. then, if still stuck, sends a fee-bumped replacement (≥ 12.5% higher fees) at the same nonce, and
   keeps watching every attempt: whichever is mined answers the request.
Bumps are capped (`fee_bump_limit` replacements, `fee_bump_max_gwei` per gas): past the cap the
tracker logs ONE alert for that transaction and only rebroadcasts it from then on, quietly, so a
sender that cannot pay (no ETH) or a node that never mines costs neither a runaway fee nor a log line
per second. A replacement the node refuses is not kept (`SenderLane.replace`).

The tracker knows the node (rpc), the fee policy, and its owner only through callbacks: `on_mined` gets the
watched jobs whose receipts were found (claimed once each), `on_nonce_gone` a job none of whose attempts can be
mined any more, and `replacer` the fee-bumping replacement of a signer's lane (None: its key is not held).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from app.chain.errors import ChainError, ChainUnavailable
from app.chain.fees import GWEI, FeePolicy
from app.chain.rpc import MAX_MERGED, SEND, RpcClient
from app.chain.types import Attempt, WriteJob

log = logging.getLogger("tradefin.chain.tracker")

# Blocks fetched by `eth_getBlockReceipts` in one poll; further behind (a long pause, a restart), the watched
# transactions are looked up by hash instead: fewer requests than blocks by then.
MAX_BLOCKS_PER_POLL = 64
# Receipt lookups right after a send: at once, then 1 and 2 ms later (an automining node answers the send a
# moment before it seals the block); later receipts are the block poll's.
RECHECK_DELAYS = (0.0, 0.001, 0.002)
# Receipts asked by hash per JSON-RPC batch: one merged batch of the RPC client at most.
RECEIPTS_PER_BATCH = MAX_MERGED
# With nothing to watch the loop wakes this often to refresh fees, so the first send after a pause is priced
# from a block at most this old; while watching, fees older than this are refreshed after a poll.
IDLE_WAKEUP_SECONDS = FEE_MAX_AGE_SECONDS = 1.0
# Pauses after a failed poll: the node unreachable (the RPC client's circuit answers at once meanwhile, so
# polling faster would only spin), or an unexpected error (logged; not a busy loop of tracebacks).
UNAVAILABLE_PAUSE_SECONDS = 0.25
ERROR_PAUSE_SECONDS = 0.05
# Checks in a row (one per stuck period) that the node knows none of a job's attempts before it is re-signed at a
# fresh nonce: a node between pool and block may briefly know neither.
NONCE_GONE_CHECKS = 3

OnMined = Callable[[list[tuple[WriteJob, dict[str, Any]]]], Awaitable[None]]
OnNonceGone = Callable[[WriteJob], Awaitable[None]]
Replace = Callable[[WriteJob], Awaitable[bool]]


async def cancel_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel a background loop (the tracker's, a lane's) and wait until it has ended; None: nothing runs."""
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass


class ReceiptTracker:
    def __init__(self, rpc: RpcClient, fees: FeePolicy, *, poll_seconds: float, stuck_after_seconds: float,
                 on_mined: OnMined, on_nonce_gone: OnNonceGone, replacer: Callable[[str], Replace | None]) -> None:
        self._rpc = rpc
        self._fees = fees
        self._poll_seconds = poll_seconds
        self._stuck_after = stuck_after_seconds
        self._on_mined = on_mined
        self._on_nonce_gone = on_nonce_gone
        self._replacer = replacer
        self._by_hash: dict[str, WriteJob] = {}
        self._by_signer: dict[str, dict[int, WriteJob]] = {}
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.last_block: int | None = None
        self._checks: set[asyncio.Task[None]] = set()
        self._progress: dict[str, float] = {}
        self._in_hand: set[str] = set()  # hashes being sent or looked up by their lane (see `watch`)

    # ───────────────────────────── bookkeeping ─────────────────────────────

    def watch(self, job: WriteJob, in_hand: bool = False) -> None:
        """Watch `job` until its receipt is found. `in_hand`: its sender looks its receipt up right after
        sending (`check_soon`), so the block poll need not; `release()` hands it back to the poll."""
        if in_hand:
            self._in_hand.update(a.tx_hash for a in job.attempts[-1:])
        if not self._by_signer.get(job.signer):
            self._progress[job.signer] = time.monotonic()  # idle until now: the clock starts here
        for attempt in job.attempts:
            self._by_hash[attempt.tx_hash] = job
        self._by_signer.setdefault(job.signer, {})[job.latest.nonce] = job
        job.sent_at = time.monotonic()
        self._wakeup.set()

    def unwatch(self, job: WriteJob) -> None:
        for attempt in job.attempts:
            self._by_hash.pop(attempt.tx_hash, None)
        jobs = self._by_signer.get(job.signer, {})
        if job.attempts and jobs.get(job.latest.nonce) is job:
            del jobs[job.latest.nonce]

    async def deliver(self, receipts: list[dict[str, Any]]) -> None:
        """Hand the receipts of watched transactions to `on_mined`, each job once: every job is claimed
        (unwatched) before the first await, so a receipt found twice (poll and lookup) is answered once."""
        matched = []
        for receipt in receipts:
            job = self._by_hash.get(receipt["transactionHash"])
            if job is None:
                continue
            self.unwatch(job)
            self._progress[job.signer] = time.monotonic()  # its clock for stuck detection restarts
            matched.append((job, receipt))
        if matched:
            await self._on_mined(matched)

    def check_soon(self, jobs: list[WriteJob]) -> None:
        """Ask for these receipts right away (an automining node has them once the send returns)
        instead of waiting for the next block poll."""
        if not jobs:
            return
        hashes = [a.tx_hash for j in jobs for a in j.attempts[-1:]]
        self._in_hand.update(hashes)
        task = asyncio.create_task(self._check_now(hashes))
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)

    async def _check_now(self, hashes: list[str]) -> None:
        """Look the receipts up right after their send, and again after `RECHECK_DELAYS` for those not found
        (waiting for the next block poll would add up to `receipt_poll_seconds`)."""
        try:
            for delay in RECHECK_DELAYS:
                if delay:
                    await asyncio.sleep(delay)
                await self.deliver(await self.receipts_by_hash([h for h in hashes if h in self._by_hash]))
                if not any(h in self._by_hash for h in hashes):
                    break
        except ChainError:
            pass  # the block poll will find them
        finally:
            self.release_hashes(hashes)

    def release(self, jobs: list[WriteJob]) -> None:
        self.release_hashes([a.tx_hash for j in jobs for a in j.attempts[-1:]])

    def release_hashes(self, hashes: list[str]) -> None:
        """The block poll takes over these transactions (their sender's own lookup is done)."""
        self._in_hand.difference_update(hashes)
        if self._by_hash:
            self._wakeup.set()

    def _needs_poll(self) -> bool:
        """Whether some watched transaction is not in its sender's hands (being sent, or looked up right
        after its send, which finds an automined receipt): polling for those too would only load the node."""
        return len(self._by_hash) > len(self._in_hand) or any(h not in self._in_hand for h in self._by_hash)

    def forget_attempt(self, job: WriteJob, attempt: Attempt) -> None:
        """The node refused `attempt` of `job`: stop looking for it; the job's other attempts stay watched."""
        self._by_hash.pop(attempt.tx_hash, None)
        self._in_hand.discard(attempt.tx_hash)
        if attempt in job.attempts:
            job.attempts.remove(attempt)
        jobs = self._by_signer.get(job.signer, {})
        if job.attempts and jobs.get(attempt.nonce) is job and not any(a.nonce == attempt.nonce for a in job.attempts):
            del jobs[attempt.nonce]

    def outstanding(self) -> int:
        return sum(len(jobs) for jobs in self._by_signer.values())

    def nonces_of(self, signer: str) -> set[int]:
        """The nonces of `signer`'s outstanding transactions."""
        return set(self._by_signer.get(signer) or ())

    # ───────────────────────────── loop ─────────────────────────────

    def start(self, head: int | None) -> None:
        self.last_block = head
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="receipt-tracker")

    async def stop(self) -> None:
        await cancel_task(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            if not self._by_hash or not self._needs_poll():
                self._wakeup.clear()
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout=IDLE_WAKEUP_SECONDS)
                except TimeoutError:
                    await self._refresh_fees_quietly()
                    continue
            try:
                await self._tick()
            except asyncio.CancelledError:
                raise
            except ChainUnavailable:
                await asyncio.sleep(UNAVAILABLE_PAUSE_SECONDS)
            except Exception:
                log.exception("receipt tracker tick failed")
                await asyncio.sleep(ERROR_PAUSE_SECONDS)
            await asyncio.sleep(self._poll_seconds)

    async def _refresh_fees_quietly(self) -> None:
        try:
            await self._fees.refresh()
        except ChainError:
            pass

    async def _tick(self) -> None:
        head = int(await self._rpc.call("eth_blockNumber", []), 16)
        if self.last_block is None:
            self.last_block = head - 1
        if head > self.last_block:
            if head - self.last_block > MAX_BLOCKS_PER_POLL:
                receipts = await self.receipts_by_hash(list(self._by_hash))
            else:
                blocks = await self._rpc.batch(
                    [("eth_getBlockReceipts", [hex(n)]) for n in range(self.last_block + 1, head + 1)]
                )
                if any(b.error is not None for b in blocks):
                    receipts = await self.receipts_by_hash(list(self._by_hash))
                else:
                    receipts = [r for b in blocks for r in (b.result or []) if r["transactionHash"] in self._by_hash]
            self.last_block = head
            await self.deliver(receipts)
            if time.monotonic() - self._fees.refreshed_at > FEE_MAX_AGE_SECONDS:
                await self._refresh_fees_quietly()
        await self._heal_stuck()

    async def receipts_by_hash(self, hashes: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for start in range(0, len(hashes), RECEIPTS_PER_BATCH):
            chunk = hashes[start : start + RECEIPTS_PER_BATCH]
            answers = await self._rpc.batch([("eth_getTransactionReceipt", [h]) for h in chunk])
            found.extend(a.result for a in answers if a.error is None and a.result)
        return found

    # ───────────────────────────── healing ─────────────────────────────

    async def _heal_stuck(self) -> None:
        """A signer is stuck when none of its transactions was mined for `stuck_after_seconds` while it
        has some outstanding (per signer, not per transaction: a long queue that keeps moving is not
        stuck). Its lowest outstanding nonce is the one to look at."""
        now = time.monotonic()
        stuck: list[WriteJob] = []
        for signer, jobs in self._by_signer.items():
            if jobs and now - self._progress.get(signer, now) >= self._stuck_after:
                self._progress[signer] = now
                stuck.append(jobs[min(jobs)])
        if not stuck:
            return
        counts = await self._rpc.batch([("eth_getTransactionCount", [j.signer, "latest"]) for j in stuck])
        receipts = await self.receipts_by_hash([a.tx_hash for j in stuck for a in j.attempts])
        await self.deliver(receipts)
        mined = {r["transactionHash"] for r in receipts}
        for job, count in zip(stuck, counts):
            if any(a.tx_hash in mined for a in job.attempts) or count.error is not None:
                continue
            if int(count.result, 16) > job.latest.nonce:
                await self._maybe_nonce_gone(job)
                continue
            job.nonce_gone_seen = 0
            await self._unstick(job)

    async def _unstick(self, job: WriteJob) -> None:
        """Rebroadcast first; then fee-bumped replacements up to the cap; past it one alert, then rebroadcasts."""
        if job.recovery_stage == 0:
            job.recovery_stage = 1
            log.warning("signer %s stuck at nonce %d: rebroadcasting", job.signer, job.latest.nonce)
            await self._rebroadcast(job.signer)
            return
        replace = self._replacer(job.signer)
        capped = self._fees.bump_refusal(job) if replace is not None else "the gateway no longer holds its key"
        if capped is not None or replace is None:
            if not job.alerted:
                job.alerted = True
                log.error("ALERT signer %s: transaction %s at nonce %d is not mined after %d fee bumps (max fee "
                          "%d gwei); no further bumps (%s). Check the signer's ETH balance and the node; the "
                          "request stays pending and is answered when a stored attempt is mined",
                          job.signer, job.latest.tx_hash, job.latest.nonce, job.fee_bumps,
                          job.latest.max_fee_per_gas // GWEI, capped)
            await self._rebroadcast(job.signer)
            return
        job.recovery_stage += 1
        log.warning("signer %s stuck at nonce %d: fee-bumped replacement %d", job.signer, job.latest.nonce,
                    job.fee_bumps + 1)
        await replace(job)

    async def _maybe_nonce_gone(self, job: WriteJob) -> None:
        """The signer's nonce is past this job's, yet no receipt of its attempts was found. Re-signing is
        safe only if none of them can ever be mined: the node must not know any of them (neither mined
        nor pooled), `NONCE_GONE_CHECKS` checks in a row. Anything less and we keep waiting: a slow answer
        costs time, a wrong re-sign would cost a second effect."""
        answers = await self._rpc.batch([("eth_getTransactionByHash", [a.tx_hash]) for a in job.attempts])
        if any(a.error is not None or a.result is not None for a in answers):
            job.nonce_gone_seen = 0
            return
        job.nonce_gone_seen += 1
        if job.nonce_gone_seen >= NONCE_GONE_CHECKS:
            log.warning("signer %s: nonce %d went to another transaction; re-signing the request",
                        job.signer, job.latest.nonce)
            self.unwatch(job)
            await self._on_nonce_gone(job)

    async def _rebroadcast(self, signer: str) -> None:
        jobs = self._by_signer.get(signer, {})
        raws = ["0x" + jobs[n].latest.raw.hex() for n in sorted(jobs)]
        if raws:
            await self._rpc.batch([("eth_sendRawTransaction", [raw]) for raw in raws], SEND)

    async def rebroadcast_all(self) -> None:
        for signer in list(self._by_signer):
            await self._rebroadcast(signer)
