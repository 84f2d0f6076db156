"""Why a call reverted: its revert data decoded by selector from every ABI of the build, and for a mined
transaction (whose receipt carries no revert data) the call replayed on the state before its block."""

from __future__ import annotations

from app.chain.abi import AbiRegistry
from app.chain.errors import ChainError, ContractReverted, RpcError
from app.chain.rpc import RpcClient
from app.chain.types import WriteJob


class RevertDecoder:
    def __init__(self, abi: AbiRegistry, contract_names: dict[str, str], rpc: RpcClient) -> None:
        self._abi = abi
        self._names = contract_names  # address → deployed name
        self._rpc = rpc

    def decode(self, data: bytes, to: str | None = None) -> ContractReverted:
        contract = self._names.get(to) if to else None
        decoded = self._abi.decode_error(data, self._names)
        if decoded is None:
            return ContractReverted("UnknownRevert", {"data": "0x" + data.hex()}, data, contract)
        return ContractReverted(decoded.name, decoded.args, data, contract, decoded.notice)

    async def of_mined(self, job: WriteJob, block: int) -> ContractReverted:
        """A mined transaction reverted: replay it on the state before its block (then on the latest) to decode
        why; `TransactionReverted` when the node gives no reason."""
        call = {"from": job.signer, "to": job.call.to, "data": "0x" + job.call.data.hex(), "gas": hex(job.latest.gas)}
        for tag in (hex(max(block - 1, 0)), "latest"):
            try:
                await self._rpc.call("eth_call", [call, tag])
            except RpcError as error:
                if error.revert_data is not None:
                    return self.decode(error.revert_data, job.call.to)
            except ChainError:
                break
        return ContractReverted("TransactionReverted", {}, b"", self._names.get(job.call.to))
