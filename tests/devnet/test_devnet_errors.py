"""Through the devnet's recording proxy, a refused transaction comes back as the contract's custom error, both
when Ape estimates gas first and when a transaction with a fixed gas limit is mined and fails."""

from __future__ import annotations

import ape
from eth_abi import decode
from eth_utils import keccak
from hexbytes import HexBytes

from app.core.enums import ParticipantKind
from scripts._common import deploy_platform, identity_hash, jurisdiction, text_hash

UNAUTHORIZED = "AccessControlUnauthorizedAccount(address,bytes32)"


def unauthorized(exc: Exception) -> tuple[str, bytes]:
    """(account, needed role) of an `AccessControlUnauthorizedAccount` revert. The registry raises it inside the
    token's call: Ape decodes it when it knows the error from another contract type, else hands over the raw
    revert data."""
    if type(exc).__name__ == "AccessControlUnauthorizedAccount":
        inputs = dict(exc.inputs)  # type: ignore[attr-defined]
        return inputs["account"], bytes(inputs["neededRole"])
    data = bytes(HexBytes(str(getattr(exc, "revert_message", "") or "0x")))
    assert data[:4] == keccak(text=UNAUTHORIZED)[:4], f"expected {UNAUTHORIZED}, got {data.hex() or exc!r}"
    account, role = decode(["address", "bytes32"], data[4:])
    return account, role


def test_custom_errors_are_decoded_from_estimates_and_from_mined_failures(devnet, connect):
    from ape import accounts, chain, project

    operator, stranger = accounts.test_accounts[0], accounts.test_accounts[11]
    with connect(devnet.url):
        platform = deploy_platform(project, operator, chain.chain_id)
        registry, usd = platform["ParticipantRegistry"], platform["SettlementTokenUSD"]
        with ape.reverts(registry.AccessControlUnauthorizedAccount):
            registry.registerParticipant(stranger.address, ParticipantKind.Corporate, jurisdiction("CN"),
                                         identity_hash("x"),
                                         sender=stranger)
        height = chain.blocks.head.number
        with ape.reverts() as refused:  # minting needs the bank role (checked by the registry)
            usd.mint(stranger.address, 1, text_hash("ref"), sender=stranger, gas=200_000)
        account, role = unauthorized(refused.value)
        assert account.lower() == stranger.address.lower() and role == registry.BANK_ROLE()
        assert chain.blocks.head.number == height + 1, "the failed transaction is mined, as on a real chain"
