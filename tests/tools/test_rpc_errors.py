"""Which node errors are failures of the moment, asked again by the RPC client (`RpcError.transient`)."""

from __future__ import annotations

from app.chain.errors import RpcError


def test_anvils_block_out_of_range_is_a_failure_of_the_moment_whatever_its_code():
    """Anvil answers a call on a block its pruned history just dropped with -32602 as well as -32603: both are asked
    again (`RpcClient.batch`), while other invalid-params answers are not."""
    for code in (-32602, -32603):
        assert RpcError(code, "BlockOutOfRangeError: block height is 159 but requested was 158").transient
    assert not RpcError(-32602, "invalid params: missing value for required argument 0").transient
