"""The devnet keeps the chain across a restart: every contract, balance and participant is where it was,
the blocks are the same blocks, and new transactions work."""

from __future__ import annotations

import time
from typing import Any

import pytest

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import CURRENCIES, accounts_by_role, identity_hash, jurisdiction, purpose_code, text_hash
from scripts._devnet import attach_recorded, bootstrap_demo, ensure_platform

PAYMENT = 12_345_67


def world_snapshot(platform: Any, roles: dict[str, Any]) -> dict[str, Any]:
    """Addresses, token balances and supplies, and participants' kinds and activity, as the chain holds them."""
    registry = platform["ParticipantRegistry"]
    snapshot: dict[str, Any] = {"contracts": platform.addresses()}
    for code in CURRENCIES:
        token = platform[f"SettlementToken{code}"]
        snapshot[f"supply {code}"] = token.totalSupply()
        for role, account in roles.items():
            snapshot[f"{role} {code}"] = token.balanceOf(account.address)
    for role, account in roles.items():
        snapshot[f"{role} kind"] = registry.kindOf(account.address)
        snapshot[f"{role} active"] = registry.isActive(account.address)
    return snapshot


def head(chain: Any) -> tuple[int, str]:
    block = chain.blocks.head
    return block.number, block.hash.hex()


@pytest.mark.slow
def test_restart_keeps_contracts_balances_and_participants_and_accepts_new_transactions(devnet, connect):
    from ape import accounts, chain, project

    roles = accounts_by_role(accounts.test_accounts)
    exporter, importer, supplier1 = roles["exporter"], roles["importer"], roles["supplier1"]
    with connect(devnet.url):
        state = ensure_platform(project, chain, roles["operator"])
        assert state.deployed
        assert bootstrap_demo(state.platform, roles, chain).changed
        registry, usd = state.platform["ParticipantRegistry"], state.platform["SettlementTokenUSD"]
        registry.registerParticipant(supplier1.address, ParticipantKind.Corporate, jurisdiction("CN"),
                                     identity_hash("USCC-supplier1"), sender=roles["operator"])
        registry.attestKyc(supplier1.address, KycStatus.Approved, chain.pending_timestamp + 3600 * 24 * 365,
                           text_hash("kyc:supplier1"), sender=roles["bank_cn"])
        usd.transferWithPurpose(importer.address, PAYMENT, purpose_code("GDDS"), text_hash("INV-0001"),
                                sender=exporter)
        before = world_snapshot(state.platform, roles)
        head_before = head(chain)

    devnet.stop()
    restart_s = devnet.start()
    assert restart_s < 60

    with connect(devnet.url):
        assert head(chain) == head_before, "the replayed chain must be the same chain, block for block"
        platform, reason = attach_recorded(project, chain)
        assert platform is not None, reason
        assert world_snapshot(platform, roles) == before
        assert before["importer USD"] > 0 and before["supplier1 active"]
        again = ensure_platform(project, chain, roles["operator"])
        assert not again.deployed
        assert not bootstrap_demo(platform, roles, chain).changed

        usd = platform["SettlementTokenUSD"]
        receipt = usd.transferWithPurpose(supplier1.address, PAYMENT, purpose_code("GDDS"), text_hash("INV-0002"),
                                          sender=importer)
        assert not receipt.failed
        assert usd.balanceOf(supplier1.address) == PAYMENT
        assert usd.balanceOf(importer.address) == before["importer USD"] - PAYMENT
        assert chain.blocks.head.number == head_before[0] + 1
        # Chain time goes on from wall-clock time after the restart, as it did before the stop.
        assert abs(chain.blocks.head.timestamp - time.time()) < 120
