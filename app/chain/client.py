"""The chain client: exactly-once contract writes for many signers, and reads.

    execute(participant, Idempotency-Key, fingerprint, call)
      → repeated key? answer the stored (or in-flight) answer, send nothing
      → the signer's lane (nonces.py): preflight (preflight.py), nonce, sign, store, batch-send
        (rpc.py merges the lanes' concurrent batches into one JSON-RPC request)
      → the tracker (tracker.py): receipt, decode events, store the answer, answer the caller

At start-up `recover()` picks up every stored-but-unanswered transaction: the mined ones are answered
from their receipts, the others rebroadcast from their stored bytes, so a crash at any point between
signing and receipt neither loses nor repeats a write. One gateway process owns its signers' nonces.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from app.chain.abi import AbiRegistry, ContractEvents, Deployment, FunctionAbi
from app.chain.errors import ChainError, ChainUnavailable, ContractReverted, NodeErrorKind, RpcError
from app.chain.nonces import SenderLane
from app.chain.outbox import Outbox
from app.chain.preflight import Preflight
from app.chain.rpc import OPEN, RpcClient
from app.chain.signer import Signer
from app.chain.tracker import FeeOracle, ReceiptTracker
from app.chain.types import RESULT_DECODERS, Attempt, ContractCall, TxOutcome, WriteAnswer, WriteJob
from app.core.config import Settings
from app.core.errors import (
    Forbidden,
    ServiceUnavailable,
    TransactionPending,
    error_body,
    key_reused,
)
from app.db.models import RequestState

log = logging.getLogger("tradefin.chain")

# A signer without the ETH its gas costs: the request conflicts with the chain's state (the signer's balance), as
# an ERC-20 balance too small for a payment does (409 `ERC20InsufficientBalance`); fixed by funding, not by waiting.
INSUFFICIENT_FUNDS_STATUS = 409


class ChainClient:
    def __init__(self, settings: Settings, abi: AbiRegistry, deployment: Deployment, outbox: Outbox,
                 signers: dict[str, Signer]) -> None:
        self.settings = settings
        self.abi = abi
        self.deployment = deployment
        self.contract_names = deployment.names_by_address()
        self.events = ContractEvents(abi, deployment)  # receipts' logs, decoded by their emitting contract
        self.outbox = outbox
        self.chain_id = settings.chain_id
        self.rpc = RpcClient(settings.rpc_url, settings.rpc_timeout_seconds, settings.rpc_max_in_flight,
                             settings.rpc_circuit_failures, settings.rpc_circuit_cooldown_seconds)
        self.preflight = Preflight()
        self.fees = FeeOracle(self.rpc)
        self.tracker = ReceiptTracker(self)
        self.lanes: dict[str, SenderLane] = {addr: SenderLane(s, self) for addr, s in signers.items()}
        self._inflight: dict[tuple[str, str], WriteJob] = {}
        self.ready = False
        self._background: set[asyncio.Task[None]] = set()
        self._starter: asyncio.Task[None] | None = None

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
            await asyncio.sleep(1.0)
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
            job = WriteJob(req.participant, req.idempotency_key, req.fingerprint, call, loop.create_future(),
                           request_id=req.id, gas=req.attempts[-1].gas,
                           attempts=[Attempt(a.id, a.tx_hash, a.raw, a.nonce, a.gas, a.max_fee_per_gas,
                                             a.max_priority_fee_per_gas) for a in req.attempts],
                           fee_bumps=len(req.attempts) - 1)  # the cap counts a previous run's bumps too
            self._inflight[(job.signer, job.idempotency_key)] = job
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
        receipts = await self.tracker._receipts_by_hash([a.tx_hash for j in jobs for a in j.attempts])
        await self.finalize(receipts)
        await self.tracker.rebroadcast_all()

    # ───────────────────────────── writes ─────────────────────────────

    def has_signer(self, address: str) -> bool:
        return address in self.lanes

    def add_signer(self, signer: Signer) -> None:
        """Hold a key created while running (a custodial participant): its lane owns its nonces from now on."""
        if signer.address in self.lanes:
            return
        lane = SenderLane(signer, self)
        self.lanes[signer.address] = lane
        if self.ready:
            lane.start()

    async def execute(self, participant: str, key: str, fingerprint: str, call: ContractCall) -> WriteAnswer:
        """Run a write once per (participant, key). The stored answer of an earlier request with the same
        key is found by the lane, for a whole group in one query (see `SenderLane._process`)."""
        ident = (participant, key)
        job = self._inflight.get(ident)
        if job is not None:
            if job.fingerprint != fingerprint:
                raise key_reused(key)
            answer = await self._wait(job)
            return WriteAnswer(answer.http_status, answer.body, replayed=True)
        circuit = self.rpc.circuit
        if not self.ready or circuit.state == OPEN:
            record = await asyncio.to_thread(self.outbox.find_request, participant, key)
            if record is not None and record.state == RequestState.DONE:
                if record.fingerprint != fingerprint:
                    raise key_reused(key)
                return WriteAnswer(record.http_status or 200, record.response or {}, replayed=True)
            if self.ready:  # the node stopped answering: do not queue behind it
                refusal = circuit.refusal()
                raise ServiceUnavailable(str(refusal), {"node": self.node_details()},
                                         headers={"Retry-After": str(refusal.retry_after)})
            raise ServiceUnavailable("the chain node is unavailable; nothing was sent", headers={"Retry-After": "1"})
        lane = self.lanes.get(participant)
        if lane is None:
            raise Forbidden("the gateway holds no signing key for this participant", code="NoSigningKey")
        job = WriteJob(participant, key, fingerprint, call, asyncio.get_running_loop().create_future())
        self._inflight[ident] = job
        lane.submit(job)
        return await self._wait(job)

    async def _wait(self, job: WriteJob) -> WriteAnswer:
        """The job's answer, or after `receipt_timeout_seconds` 504 `TransactionPending` with its `tx_hash`,
        but only for a transaction that really is stored and handed to the node. One not signed yet (its
        lane still waits on the node) is given up instead: answered 503, and its lane sends nothing for it
        (`SenderLane._process` checks before signing). One signed but not stored yet is waited for: storing
        is local and short."""
        assert job.future is not None
        timeout = self.settings.receipt_timeout_seconds
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(job.future), timeout)
            except TimeoutError:
                pass
            if job.attempts and job.latest.id is not None:
                raise TransactionPending(
                    "the transaction is stored and sent but not mined yet; repeat the request with the same "
                    "Idempotency-Key to get its result", {"tx_hash": job.latest.tx_hash, "nonce": job.latest.nonce},
                    headers={"Retry-After": "2"},
                ) from None
            if not job.attempts:
                reason = self.rpc.circuit.last_error or "the chain node has not answered yet"
                self.fail(job, 503, error_body(
                    "ChainUnavailable", f"the request was not sent within {self.settings.receipt_timeout_seconds:g} s "
                    f"({reason}); nothing was sent, the same Idempotency-Key may be repeated",
                    {"node": self.node_details()}))
                return job.future.result()
            timeout = 1.0  # signed, being stored

    def resolve(self, job: WriteJob, answer: WriteAnswer) -> None:
        """Answer a job whose answer is stored."""
        self._inflight.pop((job.signer, job.idempotency_key), None)
        if job.future is not None and not job.future.done():
            job.future.set_result(answer)

    def fail(self, job: WriteJob, http_status: int, body: dict[str, Any], replayed: bool = False) -> None:
        """Answer a job with an answer it does not store: an error after which nothing was sent (the key
        may be retried), or the replay of an answer stored earlier. A 503 carries the node's state (`details.node`),
        whose circuit says when to try again (the route's `Retry-After`)."""
        error = body.get("error")
        if http_status == 503 and not replayed and isinstance(error, dict) and "node" not in error.get("details", {}):
            body = {**body, "error": {**error, "details": {**error.get("details", {}), "node": self.node_details()}}}
        self.resolve(job, WriteAnswer(http_status, body, replayed))

    async def resign_elsewhere(self, job: WriteJob) -> None:
        """None of `job`'s attempts can be mined any more (their nonce went to another transaction):
        sign it again at a fresh nonce."""
        self.tracker.unwatch(job)
        await self.outbox.commit(self.outbox.supersede, [a.id for a in job.attempts if a.id])
        if job.is_filler:
            return
        lane = self.lanes.get(job.signer)
        if lane is None:
            self.fail(job, 503, error_body("NoSigningKey", "the signer's key is no longer held"))
            return
        job.attempts.clear()
        job.recovery_stage = job.nonce_gone_seen = 0
        lane.next_nonce = None
        # The request row stays; a new attempt is added when the lane signs it again.
        lane.submit(job, front=True)

    async def finalize(self, receipts: list[dict[str, Any]]) -> None:
        """Turn receipts of watched transactions into stored answers, then answer the callers."""
        done: list[tuple[WriteJob, WriteAnswer]] = []
        rows: list[dict[str, Any]] = []
        matched = []
        for receipt in receipts:  # claim every job before the first await: a receipt is handled once
            job = self.tracker._by_hash.get(receipt["transactionHash"])
            if job is None:
                continue
            self.tracker.unwatch(job)
            self.tracker.progressed(job.signer)
            matched.append((job, receipt))
        if matched and log.isEnabledFor(logging.DEBUG):
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
            answer = await self._answer_for(job, receipt, block, status)
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
            self.resolve(job, answer)

    async def _answer_for(self, job: WriteJob, receipt: dict[str, Any], block: int, status: int) -> WriteAnswer:
        tx_hash = receipt["transactionHash"]
        if status != 1:
            reverted = await self._replay_revert(job, block)
            answer = self.revert_answer(reverted)
            answer.body["error"]["details"].update({"tx_hash": tx_hash, "block_number": block})
            return answer
        outcome = TxOutcome(tx_hash, block, status, int(receipt.get("gasUsed", "0x0"), 16), receipt.get("logs", []),
                            job.call.context, self._decode_log, self.abi.topics_named)
        decoder = RESULT_DECODERS.get(job.call.operation)
        try:
            http_status, result = decoder(outcome) if decoder else (200, {"events": [e.__dict__ for e in outcome.events]})
        except Exception:
            log.exception("result decoder %s failed for %s", job.call.operation, tx_hash)
            http_status, result = 200, {"events": [e.__dict__ for e in outcome.events]}
        return WriteAnswer(http_status, {"result": result, "tx_hash": tx_hash, "block_number": block})

    def _decode_log(self, log_: dict[str, Any]) -> Any:
        return self.events.decode_log(log_)

    async def _replay_revert(self, job: WriteJob, block: int) -> ContractReverted:
        """A mined transaction reverted: replay it on the state before its block to decode why."""
        call = {"from": job.signer, "to": job.call.to, "data": "0x" + job.call.data.hex(), "gas": hex(job.latest.gas)}
        for tag in (hex(max(block - 1, 0)), "latest"):
            try:
                await self.rpc.call("eth_call", [call, tag])
            except RpcError as error:
                if error.revert_data is not None:
                    return self.decode_revert(error.revert_data, job.call.to)
            except ChainError:
                break
        return ContractReverted("TransactionReverted", {}, b"", self.contract_names.get(job.call.to))

    # ───────────────────────────── helpers for the lanes ─────────────────────────────

    def gas_limit(self, estimate: int) -> int:
        return int(estimate * self.settings.gas_multiplier) + 10_000

    def decode_revert(self, data: bytes, to: str | None = None) -> ContractReverted:
        contract = self.contract_names.get(to) if to else None
        decoded = self.abi.decode_error(data, self.contract_names)
        if decoded is None:
            return ContractReverted("UnknownRevert", {"data": "0x" + data.hex()}, data, contract)
        return ContractReverted(decoded.name, decoded.args, data, contract, decoded.notice)

    @staticmethod
    def insufficient_funds(signer: str, balance: int | None, needed: int, gas: int, max_fee_per_gas: int) -> WriteAnswer:
        """409 `InsufficientFundsForGas`: the signer's ETH cannot pay for the gas. Nothing was sent or stored,
        so the same Idempotency-Key works once the signer's address is funded."""
        held = "an unknown amount of" if balance is None else f"{balance} wei of"
        body = error_body(
            NodeErrorKind.INSUFFICIENT_FUNDS.value,
            f"The signer {signer} holds {held} ETH for gas, less than the {needed} wei this request may cost "
            f"({gas} gas at up to {max_fee_per_gas} wei per gas). Fund the signer's address with ETH, then repeat "
            f"the request: nothing was sent, and the same Idempotency-Key may be used.",
            {"signer": signer, "balance": balance, "needed": needed,
             "shortfall": None if balance is None else max(needed - balance, 0),
             "gas": gas, "max_fee_per_gas": max_fee_per_gas})
        return WriteAnswer(INSUFFICIENT_FUNDS_STATUS, body)

    def node_state(self) -> dict[str, Any]:
        """For /health: whether writes can go to the node now, and the circuit's state and last error (which
        names "the chain node", never its URL: that may carry credentials or internal host names)."""
        circuit = self.rpc.circuit.snapshot()
        if circuit["last_error"]:
            circuit["last_error"] = self._without_node_url(circuit["last_error"])
        for name in ("last_error_at", "last_answer_at"):
            if circuit[name] is not None:
                circuit[name] = datetime.fromtimestamp(circuit[name], timezone.utc)
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

    @staticmethod
    def revert_answer(reverted: ContractReverted) -> WriteAnswer:
        body = error_body(reverted.name, reverted.message, dict(reverted.arguments))
        return WriteAnswer(reverted.http_status, body)

    @staticmethod
    def request_row(job: WriteJob) -> dict[str, Any]:
        return {"participant": job.signer, "idempotency_key": job.idempotency_key, "fingerprint": job.fingerprint,
                "operation": job.call.operation, "context": job.call.context}

    @staticmethod
    def attempt_row(job: WriteJob, attempt: Attempt) -> dict[str, Any]:
        return {"signer": job.signer, "nonce": attempt.nonce, "tx_hash": attempt.tx_hash, "raw": attempt.raw,
                "to": job.call.to, "data": job.call.data, "gas": attempt.gas,
                "max_fee_per_gas": attempt.max_fee_per_gas, "max_priority_fee_per_gas": attempt.max_priority_fee_per_gas}

    # ───────────────────────────── reads ─────────────────────────────

    async def read(self, to: str, fn: FunctionAbi, *args: Any) -> tuple[Any, ...]:
        (result,) = await self.read_many([(to, fn, args)])
        return result

    async def read_many(self, calls: list[tuple[str, FunctionAbi, tuple[Any, ...]]]) -> list[tuple[Any, ...]]:
        answers = await self.rpc.batch(
            [("eth_call", [{"to": to, "data": "0x" + fn.encode(args).hex()}, "latest"]) for to, fn, args in calls]
        )
        out = []
        for (to, fn, _), answer in zip(calls, answers):
            if answer.error is not None:
                if answer.error.revert_data is not None:
                    raise self.decode_revert(answer.error.revert_data, to)
                raise answer.error
            out.append(fn.decode_output(bytes.fromhex(answer.result[2:])))
        return out
