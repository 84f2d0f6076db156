"""Through the devnet's recording proxy, a refused transaction comes back as the contract's custom error, both
when Ape estimates gas first and when a transaction with a fixed gas limit is mined and fails."""

from __future__ import annotations

import ape

from scripts._common import KIND_CORPORATE, deploy_platform, identity_hash, jurisdiction, text_hash


def test_custom_errors_are_decoded_from_estimates_and_from_mined_failures(devnet, connect):
    from ape import accounts, chain, project

    operator, stranger = accounts.test_accounts[0], accounts.test_accounts[11]
    with connect(devnet.url):
        platform = deploy_platform(project, operator, chain.chain_id)
        registry, usd = platform["ParticipantRegistry"], platform["SettlementTokenUSD"]
        with ape.reverts(registry.AccessControlUnauthorizedAccount):
            registry.registerParticipant(stranger.address, KIND_CORPORATE, jurisdiction("CN"), identity_hash("x"),
                                         sender=stranger)
        height = chain.blocks.head.number
        with ape.reverts(usd.SettlementTokenNotBank):
            usd.mint(stranger.address, 1, text_hash("ref"), sender=stranger, gas=200_000)
        assert chain.blocks.head.number == height + 1, "the failed transaction is mined, as on a real chain"
