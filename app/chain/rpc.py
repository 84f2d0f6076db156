"""A small asynchronous JSON-RPC client over one keep-alive HTTP connection pool (aiohttp).

web3.py's providers are built for one call at a time: its `batch_requests()` refuses
`eth_sendRawTransaction` and its receipt wait polls every 100 ms. The gateway needs batches of signed
transactions (group commit) and millisecond receipt polling, so it speaks JSON-RPC directly.

Group commit toward the node, on two channels: reads (`max_in_flight` HTTP requests at once) and
sends (one at a time). Calls and batches asked for while a channel is busy (by every lane, the tracker,
the services' reads) wait and go together as ONE JSON-RPC batch when its request comes back. The node
pays its per-request cost once per merged batch (on Anvil 1.7.1 about 0.3–0.4 ms of CPU, as much as
executing a few writes), and the transactions of every lane sent together are mined together: fewer,
fuller blocks, which matters because a devnet's cost per block grows with its state. Each caller
still gets exactly its own answers, in order.

Every HTTP request to the node is bounded by `timeout_seconds` (connect, send and read). A node that
accepts connections and never answers would otherwise hold every caller for that long, request after
request, so a circuit breaker counts consecutive requests left unanswered: after `circuit_failures` of
them it opens and every request fails at once (`NodeNotAnswering`, nothing sent) for
`circuit_cooldown_seconds`; then one probe (`eth_chainId`) goes to the node, and its answer closes the
circuit (its silence opens it again). `/health` reports the circuit (`Circuit.snapshot`).

Errors say "the chain node", never its URL: the URL may carry credentials (`https://user:key@…`, a provider's
key in the path) or internal host names, and these messages reach `/health`, 503 bodies and logs.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.chain.errors import ChainUnavailable, NodeNotAnswering, RpcError

log = logging.getLogger("tradefin.chain.rpc")


@dataclass(frozen=True)
class RpcResult:
    """One answer of a batch: `result` or `error`."""

    result: Any = None
    error: RpcError | None = None


MAX_MERGED = 500  # JSON-RPC requests per merged batch
READ, SEND = "read", "send"
READ_ATTEMPTS = 3
# Pause before asking a failed read again: 2 ms, then 4 ms (a block sealed meanwhile; Anvil seals in about a ms).
READ_RETRY_BACKOFF_SECONDS = 0.002
# HTTP connections kept to the node: more than the read channel's requests in flight plus the send channel's one,
# so a caller never waits for a connection; idle ones stay open a minute (a reconnect costs more than a request).
MAX_CONNECTIONS = 32
KEEPALIVE_SECONDS = 60
# Methods that change nothing, so a transient failure of one is asked again (`RpcError.transient`).
READ_ONLY = frozenset({
    "eth_call", "eth_createAccessList", "eth_estimateGas", "eth_getTransactionCount", "eth_getTransactionReceipt",
    "eth_getBlockReceipts", "eth_getBlockByNumber", "eth_getTransactionByHash", "eth_blockNumber",
    "eth_maxPriorityFeePerGas", "eth_chainId",
})


CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class Circuit:
    """closed → (`failures` consecutive requests unanswered) → open → (`cooldown` seconds) → half-open: one
    probe; an answer closes it, silence opens it again for another `cooldown`."""

    def __init__(self, failures: int, cooldown: float) -> None:
        self.threshold = failures
        self.cooldown = cooldown
        self.failures = 0  # consecutive requests the node left unanswered
        self.opened_at: float | None = None
        self.probing = False
        self.last_error: str | None = None
        self.last_error_at: float | None = None  # time.time()
        self.last_answer_at: float | None = None  # time.time()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return CLOSED
        if self.probing or time.monotonic() - self.opened_at >= self.cooldown:
            return HALF_OPEN
        return OPEN

    def retry_after(self) -> int:
        """Whole seconds until the next probe may close the circuit (at least 1)."""
        if self.opened_at is None:
            return 1
        return max(1, int(self.cooldown - (time.monotonic() - self.opened_at) + 0.999))

    def refusal(self) -> NodeNotAnswering:
        return NodeNotAnswering(
            f"the chain node has not answered {self.failures} requests in a row (last: {self.last_error}); the "
            f"gateway stops asking it until a probe in {self.retry_after()} s gets an answer. Nothing was sent: "
            f"repeat the request after that", self.retry_after())

    def answered(self) -> None:
        if self.opened_at is not None:
            log.warning("the chain node answers again: circuit closed")
        self.failures = 0
        self.opened_at = None
        self.last_answer_at = time.time()

    def failed(self, error: str) -> None:
        self.failures += 1
        self.last_error, self.last_error_at = error, time.time()
        if self.failures >= self.threshold:
            if self.opened_at is None:
                log.error("the chain node left %d requests in a row unanswered (%s): circuit open for %.1f s",
                          self.failures, error, self.cooldown)
            self.opened_at = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        return {"state": self.state, "consecutive_failures": self.failures, "last_error": self.last_error,
                "last_error_at": self.last_error_at, "last_answer_at": self.last_answer_at,
                "retry_after_seconds": self.retry_after() if self.opened_at is not None else None}


class _Channel:
    """Requests to the node of one kind: how many are outstanding, and who waits to go next."""

    __slots__ = ("in_flight", "max_in_flight", "waiting")

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.waiting: deque[tuple[list[dict[str, Any]], asyncio.Future[dict[Any, Any]]]] = deque()


class RpcClient:
    def __init__(self, url: str, timeout_seconds: float = 5.0, max_in_flight: int = 2, circuit_failures: int = 3,
                 circuit_cooldown_seconds: float = 5.0) -> None:
        self.url = url
        self.timeout_seconds = timeout_seconds
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, sock_connect=timeout_seconds)
        self.circuit = Circuit(circuit_failures, circuit_cooldown_seconds)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._channels = {READ: _Channel(max_in_flight), SEND: _Channel(1)}

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_SECONDS)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, payload: Any) -> Any:
        """One HTTP request to the node, through the circuit: refused at once while it is open; the first
        request after the cool-down sends a probe first."""
        circuit = self.circuit
        if circuit.opened_at is not None:
            if circuit.state != HALF_OPEN or circuit.probing:
                raise circuit.refusal()
            circuit.probing = True
            try:
                await self._post_once({"jsonrpc": "2.0", "id": 0, "method": "eth_chainId", "params": []})
            except ChainUnavailable as exc:
                circuit.failed(str(exc))
                raise circuit.refusal() from exc
            finally:
                circuit.probing = False
            circuit.answered()
        try:
            answer = await self._post_once(payload)
        except ChainUnavailable as exc:
            circuit.failed(str(exc))
            raise
        circuit.answered()
        return answer

    async def _post_once(self, payload: Any) -> Any:
        await self.start()
        assert self._session is not None
        body = json.dumps(payload, separators=(",", ":"))
        try:
            async with self._session.post(
                self.url, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                text = await response.text()
        except aiohttp.ClientConnectorError as exc:
            # The connection was never made: the node received nothing.
            raise ChainUnavailable("cannot reach the chain node", delivered=False) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = f"no answer within {self.timeout_seconds:g} s" if isinstance(exc, TimeoutError) else type(exc).__name__
            raise ChainUnavailable(f"the chain node did not answer: {reason}", delivered=None) from exc
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ChainUnavailable(f"the node answered with non-JSON ({response.status})", delivered=None) from exc

    async def _exchange(self, requests: list[dict[str, Any]], channel: str = READ) -> dict[Any, Any]:
        """Send `requests` (alone, or merged with others waiting on the channel) and answer {id: answer};
        a whole batch refused by the node answers {None: error answer}."""
        lane = self._channels[channel]
        if lane.in_flight < lane.max_in_flight and not lane.waiting:
            lane.in_flight += 1
            try:
                return _by_id(await self._post(requests))
            finally:
                lane.in_flight -= 1
                self._flush(lane)
        future: asyncio.Future[dict[Any, Any]] = asyncio.get_running_loop().create_future()
        lane.waiting.append((requests, future))
        return await future

    def _flush(self, lane: _Channel) -> None:
        if not lane.waiting or lane.in_flight >= lane.max_in_flight:
            return
        group: list[tuple[list[dict[str, Any]], asyncio.Future[dict[Any, Any]]]] = []
        size = 0
        while lane.waiting and (not group or size + len(lane.waiting[0][0]) <= MAX_MERGED):
            requests, future = lane.waiting.popleft()
            if future.done():  # its caller gave up (cancelled): send nothing for it
                continue
            group.append((requests, future))
            size += len(requests)
        if group:
            lane.in_flight += 1
            asyncio.get_running_loop().create_task(self._post_merged(lane, group))

    async def _post_merged(self, lane: _Channel,
                           group: list[tuple[list[dict[str, Any]], asyncio.Future[dict[Any, Any]]]]) -> None:
        try:
            answers = _by_id(await self._post([r for requests, _ in group for r in requests]))
        except NodeNotAnswering as exc:
            for _, future in group:
                if not future.done():
                    future.set_exception(NodeNotAnswering(str(exc), exc.retry_after))
        except ChainUnavailable as exc:
            for _, future in group:
                if not future.done():
                    future.set_exception(ChainUnavailable(str(exc), delivered=exc.delivered))
        except BaseException as exc:  # noqa: BLE001 - every waiting caller must be answered
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
        else:
            for _, future in group:
                if not future.done():
                    future.set_result(answers)
        finally:
            lane.in_flight -= 1
            self._flush(lane)

    def _next_ids(self, count: int) -> list[int]:
        first = next(self._ids)
        self._ids = itertools.count(first + count)
        return [first + n for n in range(count)]

    async def call(self, method: str, params: list[Any]) -> Any:
        (answer,) = await self.batch([(method, params)])
        if answer.error is not None:
            raise answer.error
        return answer.result

    async def batch(self, calls: list[tuple[str, list[Any]]], channel: str = READ) -> list[RpcResult]:
        """Send `calls` as (part of) one JSON-RPC batch; answers come back in the order of `calls`.
        Signed transactions go on the `SEND` channel. A read-only call the node fails for a moment is
        asked again, up to READ_ATTEMPTS times in all."""
        results = await self._batch_once(calls, channel)
        for attempt in range(1, READ_ATTEMPTS):
            again = [i for i, (result, (method, _)) in enumerate(zip(results, calls))
                     if result.error is not None and result.error.transient and method in READ_ONLY]
            if not again:
                break
            await asyncio.sleep(READ_RETRY_BACKOFF_SECONDS * attempt)
            for index, result in zip(again, await self._batch_once([calls[i] for i in again], channel)):
                results[index] = result
        return results

    async def _batch_once(self, calls: list[tuple[str, list[Any]]], channel: str) -> list[RpcResult]:
        if not calls:
            return []
        ids = self._next_ids(len(calls))
        answers = await self._exchange(
            [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls)], channel)
        results = []
        for i in ids:
            answer = answers.get(i) or answers.get(None)
            if answer is None:
                results.append(RpcResult(error=RpcError(-32603, "no answer in batch")))
            elif "error" in answer:
                results.append(RpcResult(error=RpcError.from_json(answer["error"])))
            else:
                results.append(RpcResult(result=answer.get("result")))
        return results


def _by_id(answers: Any) -> dict[Any, Any]:
    """A node's answer to a (batch) request, by request id; a refusal of the whole request under None."""
    if isinstance(answers, dict):
        if "id" in answers and answers.get("id") is not None and ("result" in answers or "error" in answers):
            return {answers["id"]: answers}
        return {None: {"error": answers.get("error", {"code": -32600, "message": "batch refused"})}}
    return {a.get("id"): a for a in answers if isinstance(a, dict)}
