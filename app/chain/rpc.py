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
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.chain.errors import ChainUnavailable, RpcError


@dataclass(frozen=True)
class RpcResult:
    """One answer of a batch: `result` or `error`."""

    result: Any = None
    error: RpcError | None = None


MAX_MERGED = 500  # JSON-RPC requests per merged batch
READ, SEND = "read", "send"
READ_ATTEMPTS = 3
# Methods that change nothing, so a transient failure of one is asked again (`RpcError.transient`).
READ_ONLY = frozenset({
    "eth_call", "eth_createAccessList", "eth_estimateGas", "eth_getTransactionCount", "eth_getTransactionReceipt",
    "eth_getBlockReceipts", "eth_getBlockByNumber", "eth_getTransactionByHash", "eth_blockNumber",
    "eth_maxPriorityFeePerGas", "eth_chainId",
})


class _Channel:
    """Requests to the node of one kind: how many are outstanding, and who waits to go next."""

    __slots__ = ("max_in_flight", "in_flight", "waiting")

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max_in_flight
        self.in_flight = 0
        self.waiting: deque[tuple[list[dict[str, Any]], asyncio.Future[dict[Any, Any]]]] = deque()


class RpcClient:
    def __init__(self, url: str, timeout_seconds: float = 10.0, max_in_flight: int = 2) -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._channels = {READ: _Channel(max_in_flight), SEND: _Channel(1)}

    async def start(self) -> None:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=32, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _post(self, payload: Any) -> Any:
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
            raise ChainUnavailable(f"cannot reach the node at {self.url}", delivered=False) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ChainUnavailable(f"the node at {self.url} did not answer: {type(exc).__name__}", delivered=None) from exc
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

    def _flush(self, lane: "_Channel") -> None:
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

    async def _post_merged(self, lane: "_Channel",
                           group: list[tuple[list[dict[str, Any]], asyncio.Future[dict[Any, Any]]]]) -> None:
        try:
            answers = _by_id(await self._post([r for requests, _ in group for r in requests]))
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
            await asyncio.sleep(0.002 * attempt)
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
