"""The chain client: exactly-once contract writes for many signers, and reads.

    execute(participant, Idempotency-Key, fingerprint, call)
      → repeated key? answer the stored (or in-flight) answer, send nothing
      → the signer's lane (lane.py): preflight (preflight.py), nonce, sign, store, batch-send
        (rpc.py merges the lanes' concurrent batches into one JSON-RPC request)
      → the tracker (tracker.py): receipts of the watched transactions
      → here: each receipt becomes a typed outcome (types.py), rendered by the gateway's renderer into the
        answer that is stored and given to the caller

The modules import one way: client → lane → tracker → fees → rpc → errors (and types, outbox, preflight,
reverts, signer below them); nothing below imports the client. The lanes and the tracker reach their owner
only through callbacks (`answer`, `render`, `on_mined`, `on_nonce_gone`, `replacer`).

At start-up `recover()` picks up every stored-but-unanswered transaction: the mined ones are answered
from their receipts, the others rebroadcast from their stored bytes, so a crash at any point between
signing and receipt neither loses nor repeats a write. One gateway process owns its signers' nonces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from eth_abi import decode as abi_decode

from app.chain.abi import AbiRegistry, ContractEvents, Deployment, FunctionAbi
from app.chain.errors import ChainUnavailable
from app.chain.fees import FeePolicy
from app.chain.lane import SenderLane, key_reused, not_sent
from app.chain.outbox import Outbox, RequestRecord
from app.chain.preflight import Preflight
from app.chain.relay_order import FORWARD_NONCE, NonceOrder
from app.chain.reverts import RevertDecoder
from app.chain.rpc import OPEN, RpcClient, RpcResult
from app.chain.signer import Signer
from app.chain.tracker import ReceiptTracker, Replace
from app.chain.types import (
    Attempt,
    ContractCall,
    Mined,
    NotSent,
    Outcome,
    Pending,
    RelayedCall,
    Render,
    Reverted,
    TxOutcome,
    WriteAnswer,
    WriteJob,
)
from app.core.config import Settings
from app.core.forward_requests import EXECUTE_ARGUMENT, from_execute_argument
from app.db.models import RequestState

log = logging.getLogger("tradefin.chain")

# While the node is unreachable at start-up, the client tries to connect and recover this often.
START_RETRY_SECONDS = 1.0
# A caller whose transaction is signed but not stored yet when `receipt_timeout_seconds` ends waits this much
# longer per round: storing is local (one group commit, a few ms), so the answer is about to be known.
STORING_WAIT_SECONDS = 1.0
# Refusals that are not the node's doing: their answers carry no node state (`NotSent.node`).
NOT_THE_NODE = frozenset({"IdempotencyKeyReused", "InsufficientFundsForGas", "NoSigningKey", "SignedRequestGasTooLow"})


class ChainClient:
    def __init__(self, settings: Settings, abi: AbiRegistry, deployment: Deployment, outbox: Outbox,
                 signers: dict[str, Signer], render: Render) -> None:
        self.settings = settings
        self.abi = abi
        self.deployment = deployment
        self.events = ContractEvents(abi, deployment)  # receipts' logs, decoded by their emitting contract
        self.outbox = outbox
        self.chain_id = settings.chain_id
        self.rpc = RpcClient(settings.rpc_url, settings.rpc_timeout_seconds, settings.rpc_max_in_flight,
                             settings.rpc_circuit_failures, settings.rpc_circuit_cooldown_seconds)
        self.render = render
        self.reverts = RevertDecoder(abi, deployment.names_by_address(), self.rpc)
        self.preflight = Preflight()
        self.fees = FeePolicy(self.rpc, settings.gas_multiplier, settings.fee_bump_limit, settings.fee_bump_max_gwei)
        self.tracker = ReceiptTracker(self.rpc, self.fees, poll_seconds=settings.receipt_poll_seconds,
                                      stuck_after_seconds=settings.stuck_after_seconds, on_mined=self._answer_mined,
                                      on_nonce_gone=self._resign, replacer=self._replacer)
        self.lanes: dict[str, SenderLane] = {}
        for signer in signers.values():
            self.lanes[signer.address] = self._lane(signer)
        self._inflight: dict[tuple[str, str], WriteJob] = {}
        self.relay_order = NonceOrder()
        self.ready = False
        self._background: set[asyncio.Task[None]] = set()
        self._starter: asyncio.Task[None] | None = None

    def _lane(self, signer: Signer) -> SenderLane:
        return SenderLane(signer, self.chain_id, rpc=self.rpc, outbox=self.outbox, tracker=self.tracker,
                          fees=self.fees, preflight=self.preflight, reverts=self.reverts, render=self.render,
                          answer=self._answer, max_batch=self.settings.max_batch)

    # ───────────────────────────── life cycle ─────────────────────────────

    async def start(self) -> None:
        """Connect, recover what a previous run left, start the lanes. If the node is down the gateway
        still starts: writes answer 503 until a background retry has connected and recovered."""
        await self.rpc.start()
        try:
            await self._connect_and_recover()
        except ChainUnavailable as exc:
            log.warning("chain unavailable at start-up (%s); retrying in the background", exc)
            self._starter = asyncio.create_task(self._retry_start())

    async def _retry_start(self) -> None:
        while not self.ready:
            await asyncio.sleep(START_RETRY_SECONDS)
            try:
                await self._connect_and_recover()
            except ChainUnavailable:
                continue

    async def _connect_and_recover(self) -> None:
        chain_id = int(await self.rpc.call("eth_chainId", []), 16)
        if chain_id != self.chain_id:
            raise RuntimeError(f"the chain node is chain {chain_id}, settings say {self.chain_id} (TRADEFIN_CHAIN_ID)")
        await self.fees.refresh()
        head = int(await self.rpc.call("eth_blockNumber", []), 16)
        await self.recover()
        self.tracker.start(head)
        for lane in self.lanes.values():
            lane.start()
        self.ready = True

    async def stop(self) -> None:
        if self._starter is not None:
            self._starter.cancel()
        for lane in self.lanes.values():
            await lane.stop()
        await self.tracker.stop()
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.rpc.close()
        self.outbox.close()

    async def recover(self) -> None:
        """Answer or rebroadcast every stored, unanswered transaction (a previous run's)."""
        stored, fillers = await asyncio.to_thread(self.outbox.load_open)
        loop = asyncio.get_running_loop()
        jobs: list[WriteJob] = []
        for req in stored:
            call = ContractCall(req.to, req.data, req.operation, req.context)
            relayed = req.signer not in ("", req.participant)
            job = WriteJob(req.signer or req.participant, req.idempotency_key, req.fingerprint, call,
                           loop.create_future(), request_id=req.id, gas=req.attempts[-1].gas,
                           attempts=[Attempt(a.id, a.tx_hash, a.raw, a.nonce, a.gas, a.max_fee_per_gas,
                                             a.max_priority_fee_per_gas) for a in req.attempts],
                           fee_bumps=len(req.attempts) - 1,  # the cap counts a previous run's bumps too
                           participant=req.participant if relayed else None,
                           inner=self._inner_call(call) if relayed else None)
            self._inflight[(job.principal, job.idempotency_key)] = job
            if relayed and isinstance(req.context.get(FORWARD_NONCE), int):
                self.relay_order.restore(req.participant, req.context[FORWARD_NONCE])
            jobs.append(job)
        for signer, a in fillers:
            call = ContractCall(signer, b"", "gap-filler")
            jobs.append(WriteJob(signer, "", "", call, None, gas=a.gas, attempts=[
                Attempt(a.id, a.tx_hash, a.raw, a.nonce, a.gas, a.max_fee_per_gas, a.max_priority_fee_per_gas)]))
        if not jobs:
            return
        log.info("recovering %d stored transactions", len(jobs))
        for job in jobs:
            self.tracker.watch(job)
        await self.tracker.deliver(await self.tracker.receipts_by_hash([a.tx_hash for j in jobs for a in j.attempts]))
        await self.tracker.rebroadcast_all()

    # ───────────────────────────── writes ─────────────────────────────

    def has_signer(self, address: str) -> bool:
        return address in self.lanes

    def add_signer(self, signer: Signer) -> None:
        """Hold a key created while running (a custodial participant): its lane owns its nonces from now on."""
        if signer.address in self.lanes:
            return
        lane = self._lane(signer)
        self.lanes[signer.address] = lane
        if self.ready:
            lane.start()

    def outstanding(self, participant: str) -> int:
        """Writes of `participant` in flight (stored or not yet)."""
        return sum(1 for (principal, _), job in self._inflight.items()
                   if principal == participant and job.future is not None and not job.future.done())

    async def remove_signer(self, address: str) -> None:
        """Stop signing for `address` (its key left custody): its lane stops; nothing of it may be outstanding."""
        lane = self.lanes.pop(address, None)
        if lane is not None:
            await lane.stop()

    async def execute(self, participant: str, key: str, fingerprint: str, call: ContractCall) -> WriteAnswer:
        """Run a write once per (participant, key). The stored answer of an earlier request with the same
        key is found by the lane, for a whole group in one query (see `SenderLane._drop_answered`)."""
        ident = (participant, key)
        job = self._inflight.get(ident)
        if job is not None:
            return await self._join(job, key, fingerprint)
        circuit = self.rpc.circuit
        if not self.ready or circuit.state == OPEN:
            record = await asyncio.to_thread(self.outbox.find_request, participant, key)
            if record is not None and record.state == RequestState.DONE:
                return self.replay(record, key, fingerprint)
            if self.ready:  # the node stopped answering: do not queue behind it
                return self.render(NotSent("ChainUnavailable", str(circuit.refusal()), node=self.node_details()))
            return self.render(not_sent("ChainUnavailable", "the chain node is unavailable; nothing was sent"))
        lane = self.lanes.get(participant)
        if lane is None:
            return self.render(not_sent("NoSigningKey", "the gateway holds no signing key for this participant"))
        job = WriteJob(participant, key, fingerprint, call, asyncio.get_running_loop().create_future())
        self._inflight[ident] = job
        lane.submit(job)
        return await self._wait(job)

    async def relay(self, participant: str, key: str, fingerprint: str, call: ContractCall,
                    relayer: str, nonce: int, onchain_nonce: int, inner: RelayedCall) -> WriteAnswer:
        """Run a participant's signed request once per (participant, key), as `execute` runs a write: `call` is
        the forwarder's `execute` of the signed request, sent by `relayer`'s lane, which preflights the
        participant's own call (`inner`) as the participant. A key already used is answered by the lane
        from the outbox, as for `execute`. `nonce`: the request's forwarder nonce, handed over in order
        (`relay_order`; `onchain_nonce`: the participant's next one on chain); a request that does not execute
        (refused at preflight, the node down, reverted as a whole) gives its nonce back when it is final
        (`_resolve`). `inner`: the participant's own call in `call`, as the service built it (a restart's recovery
        decodes it from the stored calldata: `_inner_call`)."""
        ident = (participant, key)
        job = self._inflight.get(ident)
        if job is not None:
            return await self._join(job, key, fingerprint)
        if not self.ready or self.rpc.circuit.state == OPEN:
            return self.render(not_sent("ChainUnavailable", "the chain node is unavailable; nothing was sent"))
        lane = self.lanes.get(relayer)
        if lane is None:
            return self.render(not_sent("NoRelayer", "the gateway holds no key of its relayer"))
        await self.relay_order.turn(participant, nonce, onchain_nonce)
        job = WriteJob(relayer, key, fingerprint, call, asyncio.get_running_loop().create_future(),
                       participant=participant, inner=inner)
        self._inflight[ident] = job
        lane.submit(job)
        return await self._wait(job)

    async def estimate(self, sender: str, call: ContractCall) -> int:
        """The gas `call` uses sent by `sender` now (the lanes' preflight), or its revert raised decoded."""
        (answer,) = await self.preflight.settle(
            sender, [WriteJob(sender, "", "", call, None)], await self.rpc.batch([self.preflight.request(sender, call)]),
            self.rpc.batch)
        if answer.error is not None:
            if answer.error.revert_data is not None:
                raise self.reverts.decode(answer.error.revert_data, call.to)
            raise answer.error
        return int(answer.result)

    async def repeat(self, participant: str, key: str, fingerprint: str) -> WriteAnswer:
        """The answer of a relayed request already stored under (participant, key): its in-flight job's, or the
        stored one; nothing is sent (a request stored and not recovered yet answers 503, repeat shortly)."""
        job = self._inflight.get((participant, key))
        if job is not None:
            return await self._join(job, key, fingerprint)
        record = await asyncio.to_thread(self.outbox.find_request, participant, key)
        if record is not None and record.state == RequestState.DONE:
            return self.replay(record, key, fingerprint)
        return self.render(not_sent("RecoveryInProgress", "the request is stored and being recovered; nothing new "
                                    "was sent: repeat the same Idempotency-Key shortly"))

    async def _join(self, job: WriteJob, key: str, fingerprint: str) -> WriteAnswer:
        """A repeated key while its request is in flight: that request's answer, or refused for another request."""
        if job.fingerprint != fingerprint:
            return self.render(key_reused(key))
        answer = await self._wait(job)
        return WriteAnswer(answer.http_status, answer.body, replayed=True)

    def replay(self, record: RequestRecord, key: str, fingerprint: str) -> WriteAnswer:
        """A repeated key whose request is answered (`record`): its stored answer, or refused for another request."""
        if record.fingerprint != fingerprint:
            return self.render(key_reused(key))
        return WriteAnswer(record.http_status or 200, record.response or {}, replayed=True)

    def _inner_call(self, call: ContractCall) -> RelayedCall:
        """The participant's own call inside a forwarder `execute` call."""
        (argument,) = abi_decode([EXECUTE_ARGUMENT], call.data[4:])
        sender, to, gas, data = from_execute_argument(argument)
        return RelayedCall(sender, ContractCall(to, data, call.operation, call.context), gas)

    async def _wait(self, job: WriteJob) -> WriteAnswer:
        """The job's answer, or after `receipt_timeout_seconds` `Pending` with its `tx_hash`, but only for a
        transaction that really is stored and handed to the node. One not signed yet (its lane still waits on
        the node) is given up instead: answered `ChainUnavailable`, and its lane sends nothing for it
        (`SenderLane._process` checks before signing). One signed but not stored yet is waited for."""
        assert job.future is not None
        timeout = self.settings.receipt_timeout_seconds
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(job.future), timeout)
            except TimeoutError:
                pass
            if job.attempts and job.latest.id is not None:
                return self.render(Pending(job.latest.tx_hash, job.latest.nonce))
            if not job.attempts:
                reason = self.rpc.circuit.last_error or "the chain node has not answered yet"
                self._answer(job, not_sent(
                    "ChainUnavailable", f"the request was not sent within {self.settings.receipt_timeout_seconds:g} s "
                    f"({reason}); nothing was sent, the same Idempotency-Key may be repeated"))
                return job.future.result()
            timeout = STORING_WAIT_SECONDS

    def _resolve(self, job: WriteJob, answer: WriteAnswer) -> None:
        if self._inflight.pop((job.principal, job.idempotency_key), None) is job and job.inner is not None:
            # a relayed request is final: executed, or not (reverted as a whole, never sent): its nonce is free
            self.relay_order.finished(job.principal, job.call.context.get(FORWARD_NONCE), job.mined_status == 1)
        if job.future is not None and not job.future.done():
            job.future.set_result(answer)

    def _answer(self, job: WriteJob, answer: Outcome | WriteAnswer) -> None:
        """Answer a job's caller: a stored (or replayed) answer as it is, or an outcome not stored (nothing was
        sent, the key may be retried), carrying the node's state when the node is the cause (`NotSent.node`)."""
        if isinstance(answer, NotSent) and answer.node is None and answer.code not in NOT_THE_NODE:
            answer = NotSent(answer.code, answer.message, answer.details, self.node_details())
        self._resolve(job, answer if isinstance(answer, WriteAnswer) else self.render(answer))

    async def _resign(self, job: WriteJob) -> None:
        """The tracker found that none of `job`'s attempts can be mined any more: its lane signs it again."""
        lane = self.lanes.get(job.signer)
        if lane is not None:
            await lane.resign(job)
            return
        await self.outbox.commit(self.outbox.supersede, [a.id for a in job.attempts if a.id])
        if not job.is_filler:
            self._answer(job, not_sent("NoSigningKey", "the signer's key is no longer held"))

    def _replacer(self, signer: str) -> Replace | None:
        lane = self.lanes.get(signer)
        return lane.replace_stuck if lane is not None else None

    async def _answer_mined(self, matched: list[tuple[WriteJob, dict[str, Any]]]) -> None:
        """Turn receipts of watched transactions into stored answers, then answer the callers."""
        done: list[tuple[WriteJob, WriteAnswer]] = []
        rows: list[dict[str, Any]] = []
        if log.isEnabledFor(logging.DEBUG):
            now = time.monotonic()
            log.debug("receipts for %d jobs, %.1f ms after their last send", len(matched),
                      max(now - j.sent_at for j, _ in matched) * 1e3)
        for job, receipt in matched:
            attempt = next(a for a in job.attempts if a.tx_hash == receipt["transactionHash"])
            block = int(receipt["blockNumber"], 16)
            status = int(receipt.get("status", "0x1"), 16)
            others = [a.id for a in job.attempts if a is not attempt and a.id is not None]
            if job.is_filler:
                rows.append({"request_id": None, "attempt_id": attempt.id, "other_attempt_ids": others,
                             "block_number": block, "status": status})
                continue
            answer = self.render(await self._outcome_of(job, receipt, block, status))
            rows.append({"request_id": job.request_id, "attempt_id": attempt.id, "other_attempt_ids": others,
                         "block_number": block, "status": status, "http_status": answer.http_status,
                         "response": answer.body})
            done.append((job, answer))
        if not rows:
            return
        # Answer at once: the answer follows from the receipt (on chain) and the stored request, so a
        # crash before it is stored loses nothing (recovery derives it again). The job stays in flight
        # until it is stored, so a repeated key meanwhile gets this same answer.
        for job, answer in done:
            if job.future is not None and not job.future.done():
                job.future.set_result(answer)
        task = asyncio.create_task(self._store_answers(rows, done))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _store_answers(self, rows: list[dict[str, Any]], done: list[tuple[WriteJob, WriteAnswer]]) -> None:
        try:
            await self.outbox.commit(self.outbox.complete, rows)
        except Exception:
            log.exception("storing %d answers failed; they stay pending and are recovered on restart", len(rows))
            return
        for job, answer in done:
            self._resolve(job, answer)

    async def _outcome_of(self, job: WriteJob, receipt: dict[str, Any], block: int, status: int) -> Outcome:
        tx_hash = receipt["transactionHash"]
        job.mined_status = status
        if status != 1:
            return Reverted(await self.reverts.of_mined(job, block), tx_hash, block)
        return Mined(job.call.operation, TxOutcome(
            tx_hash, block, status, int(receipt.get("gasUsed", "0x0"), 16), receipt.get("logs", []),
            job.call.context, self.events.decode_log, self.abi.topics_named))

    # ───────────────────────────── the node's state ─────────────────────────────

    def node_state(self) -> dict[str, Any]:
        """For /health: whether writes can go to the node now, and the circuit's state and last error (which
        names "the chain node", never its URL: that may carry credentials or internal host names)."""
        circuit = self.rpc.circuit.snapshot()
        if circuit["last_error"]:
            circuit["last_error"] = self._without_node_url(circuit["last_error"])
        for name in ("last_error_at", "last_answer_at"):
            if circuit[name] is not None:
                circuit[name] = datetime.fromtimestamp(circuit[name], UTC)
        return {"ready": self.ready and circuit["state"] == "closed", **circuit}

    def _without_node_url(self, message: str) -> str:
        """`message` with the node's URL, and its host part (credentials included), said as "the chain node": the
        RPC client's messages never name it, this keeps any other text that reaches /health from doing so."""
        url = self.settings.rpc_url
        netloc = urlsplit(url).netloc
        for secret in (url, url.rstrip("/"), netloc):
            if secret:
                message = message.replace(secret, "the chain node")
        return message

    def node_details(self) -> dict[str, Any]:
        """The node's state for an error's `details` (JSON: timestamps as ISO 8601 strings)."""
        state = self.node_state()
        state.pop("ready")
        return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in state.items()}

    # ───────────────────────────── reads ─────────────────────────────

    async def read(self, to: str, fn: FunctionAbi, *args: Any) -> tuple[Any, ...]:
        (result,) = await self.read_many([(to, fn, args)])
        return result

    async def read_many(self, calls: list[tuple[str, FunctionAbi, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        return self._decoded(calls, await self.rpc.batch(self._eth_calls(calls)))

    async def read_at_head(self, calls: list[tuple[str, FunctionAbi, tuple[Any, ...]]]) -> tuple[int, list[tuple[Any, ...]]]:
        """The latest block's timestamp (chain time) and `calls` read, in one JSON-RPC batch."""
        block, *answers = await self.rpc.batch([("eth_getBlockByNumber", ["latest", False]), *self._eth_calls(calls)])
        if block.error is not None:
            raise block.error
        return int(block.result["timestamp"], 16), self._decoded(calls, answers)

    @staticmethod
    def _eth_calls(calls: list[tuple[str, FunctionAbi, tuple[Any, ...]]]) -> list[tuple[str, list[Any]]]:
        return [("eth_call", [{"to": to, "data": "0x" + fn.encode(args).hex()}, "latest"]) for to, fn, args in calls]

    def _decoded(self, calls: list[tuple[str, FunctionAbi, tuple[Any, ...]]],
                 answers: list[RpcResult]) -> list[tuple[Any, ...]]:
        out = []
        for (to, fn, _), answer in zip(calls, answers):
            if answer.error is not None:
                if answer.error.revert_data is not None:
                    raise self.reverts.decode(answer.error.revert_data, to)
                raise answer.error
            out.append(fn.decode_output(bytes.fromhex(answer.result[2:])))
        return out
