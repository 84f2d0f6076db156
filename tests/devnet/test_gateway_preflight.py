"""The gateway's preflight on the devnet `make run` uses: Hardhat does not offer `eth_createAccessList`,
so the chain client falls back to `eth_estimateGas`, and still answers a call's gas or its custom error."""

from __future__ import annotations

import asyncio

from app.chain.abi import AbiRegistry
from app.chain.preflight import ACCESS_LIST, ESTIMATE, Preflight
from app.chain.rpc import RpcClient
from app.chain.types import ContractCall, WriteJob
from app.core.config import ROOT
from app.core.enums import ParticipantKind
from scripts._common import deploy_platform, identity_hash, jurisdiction


def test_preflight_falls_back_to_estimates_where_access_lists_are_missing(devnet, connect):
    from ape import accounts, chain, project

    operator, stranger = accounts.test_accounts[0], accounts.test_accounts[11]
    with connect(devnet.url):
        registry = deploy_platform(project, operator, chain.chain_id)["ParticipantRegistry"]
    register = AbiRegistry.from_build(ROOT / ".build" / "__local__.json").function(
        "ParticipantRegistry", "registerParticipant")
    args = (stranger.address, ParticipantKind.Corporate, jurisdiction("CN"), identity_hash("preflight"))
    calls = [ContractCall(registry.address, register.encode(args), "test"),  # the operator may: gas
             ContractCall(stranger.address, b"", "test")]  # a plain transfer: 21,000 gas

    async def preflight(sender: str) -> tuple[Preflight, list]:
        rpc, checker = RpcClient(devnet.url), Preflight()
        try:
            jobs = [WriteJob(sender, f"k{n}", "", call, None) for n, call in enumerate(calls)]
            answers = await rpc.batch([checker.request(sender, call) for call in calls])
            return checker, await checker.settle(sender, jobs, answers, rpc.batch)
        finally:
            await rpc.close()

    assert Preflight().method == ACCESS_LIST
    checker, (granted, transfer) = asyncio.run(preflight(operator.address))
    assert checker.method == ESTIMATE, "Hardhat answers that it does not support eth_createAccessList"
    assert granted.error is None and 50_000 < granted.result < 400_000
    assert transfer.error is None and 21_000 <= transfer.result < 22_000  # Hardhat answers 21,001

    _, (refused, _) = asyncio.run(preflight(stranger.address))
    assert refused.error is not None and refused.error.revert_data is not None
    assert AbiRegistry.from_build(ROOT / ".build" / "__local__.json").decode_error(
        refused.error.revert_data).name == "AccessControlUnauthorizedAccount"
