"""Fee policy: EIP-1559 fees read from the latest block, gas limits from preflight estimates, and the rules of
fee-bumped replacements. The lanes and the receipt tracker share one `FeePolicy`; it knows the node only
through the RPC client.
"""

from __future__ import annotations

import time

from app.chain.rpc import RpcClient
from app.chain.types import WriteJob

GWEI = 10**9
# Fees before the first refresh (the client refreshes before it starts the lanes, so only a node that answers
# neither `eth_getBlockByNumber` nor `eth_maxPriorityFeePerGas` keeps them): 2 gwei max fee, 1 gwei tip.
DEFAULT_FEES = (2 * GWEI, GWEI)
# Fixed gas added above `estimate × gas_multiplier`: a small call's multiplier margin is a few thousand gas,
# less than the state a call reads may change by between preflight and inclusion (a cold account access is
# 2,600 gas, a cold storage read 2,100); 10,000 covers a few of them and costs nothing unused (gas is paid as
# used).
GAS_HEADROOM = 10_000
# A replacement offers at least 9/8 (+12.5%) of the fees it replaces: geth and Anvil want +10% on both the
# max fee and the tip, and integer rounding must not fall short of it.
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8


class FeePolicy:
    """EIP-1559 fees (max fee = 2 × base fee + tip: still valid after base-fee rises in the next blocks), gas
    limits, and when a transaction may be fee-bumped (`fee_bump_limit`, `fee_bump_max_gwei`)."""

    def __init__(self, rpc: RpcClient, gas_multiplier: float, bump_limit: int, bump_max_gwei: int) -> None:
        self._rpc = rpc
        self._fees: tuple[int, int] = DEFAULT_FEES
        self.refreshed_at = 0.0
        self.gas_multiplier = gas_multiplier
        self.bump_limit = bump_limit
        self.bump_max_gwei = bump_max_gwei

    def current(self) -> tuple[int, int]:
        """(max fee per gas, tip per gas) in wei."""
        return self._fees

    async def refresh(self) -> tuple[int, int]:
        block, tip = await self._rpc.batch(
            [("eth_getBlockByNumber", ["latest", False]), ("eth_maxPriorityFeePerGas", [])]
        )
        base = int((block.result or {}).get("baseFeePerGas", "0x0"), 16) if block.error is None else 0
        priority = int(tip.result, 16) if tip.error is None and tip.result else GWEI
        priority = max(priority, 1)
        self._fees = (2 * base + priority, priority)
        self.refreshed_at = time.monotonic()
        return self._fees

    def gas_limit(self, estimate: int) -> int:
        return int(estimate * self.gas_multiplier) + GAS_HEADROOM

    def bumped(self, job: WriteJob) -> tuple[int, int]:
        """Fees for a replacement of `job`'s last attempt: at least +12.5% on both, or the current fees."""
        last = job.latest
        max_fee, tip = self.current()
        return (max(max_fee, last.max_fee_per_gas * BUMP_NUMERATOR // BUMP_DENOMINATOR + 1),
                max(tip, last.max_priority_fee_per_gas * BUMP_NUMERATOR // BUMP_DENOMINATOR + 1))

    def bump_refusal(self, job: WriteJob) -> str | None:
        """Why `job` may not be fee-bumped again (`fee_bump_limit`, `fee_bump_max_gwei`), or None."""
        if job.fee_bumps >= self.bump_limit:
            return f"{job.fee_bumps} fee bumps made, the limit (TRADEFIN_FEE_BUMP_LIMIT)"
        max_fee, _ = self.bumped(job)
        if max_fee > self.bump_max_gwei * GWEI:
            return (f"the next bump would offer {max_fee / GWEI:.3f} gwei per gas, above the cap of "
                    f"{self.bump_max_gwei} gwei (TRADEFIN_FEE_BUMP_MAX_GWEI)")
        return None
