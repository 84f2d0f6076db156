"""Preflight: run each write once on the latest state before a nonce is spent on it.

`eth_createAccessList` executes a call once and answers the gas it used, or its revert with the revert
data (as `eth_estimateGas` does). `eth_estimateGas` searches for the lowest gas limit that works, which
costs the node several executions: on Anvil 1.7.1, 0.52 ms of node CPU per invoice registration against
0.09 ms (see app/README.md, "Chain client"). So the lanes ask for access lists, and fall back to
`eth_estimateGas` for a node that does not offer them, and for a revert answered without its data
(geth reports a revert inside the access-list result, as text).

Gas: an access list's `gasUsed` is measured with the list applied. Sent without it, each listed address
and storage slot costs 100 gas more (a cold access costs 2,600 or 2,100; with the list, 2,400 + 100 or
1,900 + 100), which is added here; the chain client's `gas_limit` then adds its multiplier (which also
covers refunds, at most a fifth of the gas used) and fixed headroom.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from app.chain.errors import RpcError
from app.chain.rpc import RpcResult
from app.chain.types import ContractCall, WriteJob

log = logging.getLogger("tradefin.chain.preflight")

ACCESS_LIST = "eth_createAccessList"
ESTIMATE = "eth_estimateGas"
COLD_ACCESS_SURCHARGE = 100
# JSON-RPC "method not found" and the codes nodes use for "not supported"
_UNSUPPORTED_CODES = (-32601, -32004, -32604)

ReadBatch = Callable[[list[tuple[str, list[Any]]]], Awaitable[list[RpcResult]]]


class Preflight:
    """Turns preflight answers into each job's gas (as an int `result`) or the error to answer."""

    def __init__(self) -> None:
        self.method = ACCESS_LIST

    @staticmethod
    def _transaction(sender: str, call: ContractCall) -> dict[str, Any]:
        return {"from": sender, "to": call.to, "data": "0x" + call.data.hex()}

    def request(self, sender: str, call: ContractCall) -> tuple[str, list[Any]]:
        return self.method, [self._transaction(sender, call)]

    async def settle(self, sender: str, group: list[WriteJob], answers: list[RpcResult],
                     read_batch: ReadBatch) -> list[RpcResult]:
        """`answers` to this lane's `request()`s for `group`, in order; estimates again where needed. Read
        by their shape, not by `self.method`: another lane may have switched it meanwhile."""
        settled: list[RpcResult] = []
        again: list[int] = []
        for index, answer in enumerate(answers):
            if answer.error is not None:
                if _unsupported(answer.error):
                    self._fall_back(answer.error)
                    again.append(index)
                settled.append(answer)
            elif isinstance(answer.result, str):  # an estimate
                settled.append(RpcResult(result=int(answer.result, 16)))
            elif not isinstance(answer.result, dict) or answer.result.get("error"):
                again.append(index)  # a revert without its data: estimate to get it
                settled.append(answer)
            else:
                settled.append(RpcResult(result=access_list_gas(answer.result)))
        if again:
            estimates = await read_batch([(ESTIMATE, [self._transaction(*group[i].preflight_as(sender))])
                                          for i in again])
            for index, answer in zip(again, estimates):
                settled[index] = answer if answer.error else RpcResult(result=int(answer.result, 16))
        return settled

    def _fall_back(self, error: RpcError) -> None:
        if self.method != ESTIMATE:
            log.info("the node does not offer %s (%s); preflight uses %s", ACCESS_LIST, error.message, ESTIMATE)
            self.method = ESTIMATE


def access_list_gas(result: dict[str, Any]) -> int:
    """Gas of the call sent without its access list."""
    entries = result.get("accessList") or []
    listed = sum(1 + len(entry.get("storageKeys") or ()) for entry in entries)
    return int(result["gasUsed"], 16) + COLD_ACCESS_SURCHARGE * listed


def _unsupported(error: RpcError) -> bool:
    message = error.message.lower()
    return error.code in _UNSUPPORTED_CODES and error.revert_data is None and (
        error.code == -32601 or "not supported" in message or "not found" in message or "unsupported" in message
    )
