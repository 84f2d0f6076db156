"""A small synchronous JSON-RPC client for the indexer (one keep-alive connection, batches).

The indexer runs in its own thread (inside the gateway) or process, so it speaks plain blocking HTTP.
Node answers that mean "ask for less" (too many results, response too large, timeouts) raise
`RangeTooLarge`, which the worker answers by halving its block range.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

# Substrings of node errors that mean the answer was too big (geth, erigon, nethermind, Alchemy, Infura,
# QuickNode and Anvil phrasings).
_TOO_MUCH = ("too many", "limit exceeded", "exceed", "response size", "query returned more than",
             "block range", "range is too large", "timeout", "timed out")


class IndexerRpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


class RangeTooLarge(IndexerRpcError):
    """The node refused or failed the request because of its size: ask for a smaller range."""


class NodeUnavailable(Exception):
    """The node could not be reached; retry later."""


def _error(answer: dict[str, Any]) -> IndexerRpcError:
    code, message = int(answer.get("code", -32603)), str(answer.get("message", ""))
    if any(s in message.lower() for s in _TOO_MUCH) or code == -32005:
        return RangeTooLarge(code, message)
    return IndexerRpcError(code, message)


class SyncRpc:
    def __init__(self, url: str, timeout_seconds: float = 30.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout_seconds, limits=httpx.Limits(max_keepalive_connections=2))
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._client.close()

    def _post(self, payload: Any) -> Any:
        try:
            response = self._client.post(self.url, json=payload)
        except httpx.TimeoutException as exc:
            raise RangeTooLarge(-32000, f"timeout: {exc}") from exc
        except httpx.HTTPError as exc:
            # The node's URL may carry credentials: messages (logged) name the node, never its URL.
            raise NodeUnavailable(f"the chain node did not answer: {type(exc).__name__}") from exc
        if response.status_code == 413:
            raise RangeTooLarge(413, "request or response too large")
        try:
            return response.json()
        except ValueError as exc:
            raise NodeUnavailable(f"the chain node answered non-JSON ({response.status_code})") from exc

    def call(self, method: str, params: list[Any]) -> Any:
        answer = self._post({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})
        if "error" in answer:
            raise _error(answer["error"])
        return answer.get("result")

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Results in the order of `calls`; the first error raises."""
        if not calls:
            return []
        ids = [next(self._ids) for _ in calls]
        answers = self._post([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in zip(ids, calls)])
        if isinstance(answers, dict):
            raise _error(answers.get("error", {"message": "batch refused"}))
        by_id = {a.get("id"): a for a in answers}
        results = []
        for i in ids:
            answer = by_id.get(i)
            if answer is None:
                raise IndexerRpcError(-32603, "missing answer in batch")
            if "error" in answer:
                raise _error(answer["error"])
            results.append(answer.get("result"))
        return results

    # Typed helpers -----------------------------------------------------------------------------------

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber", []), 16)

    def get_logs(self, addresses: list[str], from_block: int, to_block: int) -> list[dict[str, Any]]:
        return self.call("eth_getLogs", [{"address": addresses, "fromBlock": hex(from_block),
                                          "toBlock": hex(to_block)}])

    def blocks(self, numbers: list[int], full: bool, per_batch: int = 100) -> dict[int, dict[str, Any]]:
        """Headers (and with `full`, transactions) of `numbers`; a block the node lacks is left out."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(numbers), per_batch):
            chunk = numbers[start:start + per_batch]
            for number, block in zip(chunk, self.batch([("eth_getBlockByNumber", [hex(n), full]) for n in chunk])):
                if block is not None:
                    found[number] = block
        return found
