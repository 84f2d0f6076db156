"""A small asynchronous JSON-RPC client over one keep-alive HTTP connection pool (aiohttp).

web3.py's providers are built for one call at a time: its `batch_requests()` refuses
`eth_sendRawTransaction` and its receipt wait polls every 100 ms. The gateway needs batches of signed
transactions (group commit) and millisecond receipt polling, so it speaks JSON-RPC directly.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.chain.errors import ChainUnavailable, RpcError


@dataclass(frozen=True)
class RpcResult:
    """One answer of a batch: `result` or `error`."""

    result: Any = None
    error: RpcError | None = None


class RpcClient:
    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None

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

    async def call(self, method: str, params: list[Any]) -> Any:
        answer = await self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if "error" in answer:
            raise RpcError.from_json(answer["error"])
        return answer.get("result")

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[RpcResult]:
        """Send `calls` as one JSON-RPC batch; answers come back in the order of `calls`."""
        if not calls:
            return []
        first = next(self._ids)
        ids = [first + n for n in range(len(calls))]
        self._ids = itertools.count(first + len(calls))
        payload = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls)]
        answers = await self._post(payload)
        if isinstance(answers, dict):  # the whole batch was refused
            error = RpcError.from_json(answers.get("error", {"code": -32600, "message": "batch refused"}))
            return [RpcResult(error=error) for _ in calls]
        by_id = {a.get("id"): a for a in answers}
        results = []
        for i in ids:
            answer = by_id.get(i)
            if answer is None:
                results.append(RpcResult(error=RpcError(-32603, "no answer in batch")))
            elif "error" in answer:
                results.append(RpcResult(error=RpcError.from_json(answer["error"])))
            else:
                results.append(RpcResult(result=answer.get("result")))
        return results
