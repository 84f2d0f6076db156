"""One legal identity, explicit wallets (DESIGN §1; audit notes on identity hashes).

An identity hash is never zero and registers once; a further wallet of the same legal identity is linked
by the operator (`linkWallet`), and then shares the identity's kind, jurisdiction, KYC and freeze: a KYC
attestation or revocation, or a freeze, made through any wallet applies to every wallet. (That a second
wallet cannot register an invoice the first already registered is tested with the invoice registry.)
"""

from __future__ import annotations

from typing import Any

import ape
from _reverts import reverts_with
from eth_utils import keccak, to_checksum_address

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import INSTRUMENT_CONTRACTS, identity_hash, jurisdiction, text_hash

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_ID = b"\x00" * 32
DAY = 24 * 3600
NEWCOMER = to_checksum_address("0x00000000000000000000000000000000000c0ffe")
EXPORTER_ID = identity_hash("USCC-91310000EXPORTER")  # the exporter's, in the demo world


def only_event(receipt: Any, event_type: Any) -> dict[str, Any]:
    """The arguments of the one `event_type` log in `receipt` (fails on none or several)."""
    logs = receipt.events.filter(event_type)
    assert len(logs) == 1, f"expected one {event_type.name}, got {len(logs)}"
    return dict(logs[0].event_arguments)


def events(receipt: Any, event_type: Any) -> list[dict[str, Any]]:
    return [dict(log.event_arguments) for log in receipt.events.filter(event_type)]


def placeholder(i: int) -> str:
    """An address that never sends a transaction, to fill an identity's wallets."""
    return to_checksum_address(f"0x{0xc0ffee00 + i:040x}")


# ───────────────────────────── Identity hashes ─────────────────────────────


def test_register_fails_if_identity_is_zero(registry, operator):
    with ape.reverts(registry.ParticipantRegistryInvalidIdentity):
        registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), ZERO_ID, sender=operator)
    assert registry.kindOf(NEWCOMER) == 0


def test_register_fails_if_identity_taken_whatever_the_kind(registry, operator, exporter):
    assert registry.identityHashOf(exporter.address) == EXPORTER_ID
    for kind in (ParticipantKind.Corporate, ParticipantKind.Bank):
        with ape.reverts(registry.ParticipantRegistryIdentityTaken, identityHash=EXPORTER_ID,
                         account=exporter.address):
            registry.registerParticipant(NEWCOMER, kind, jurisdiction("CN"), EXPORTER_ID, sender=operator)
    assert registry.kindOf(NEWCOMER) == 0


def test_operators_identity_from_the_constructor_is_taken_too(registry, operator):
    ident = registry.identityHashOf(operator.address)
    with ape.reverts(registry.ParticipantRegistryIdentityTaken, identityHash=ident, account=operator.address):
        registry.registerParticipant(NEWCOMER, ParticipantKind.Bank, jurisdiction("SG"), ident, sender=operator)


def test_every_participant_of_the_world_has_its_own_nonzero_identity(registry, platform, role_accounts):
    accounts = [a.address for name, a in role_accounts.items() if name != "outsider"]
    accounts += [platform[name].address for name in INSTRUMENT_CONTRACTS]
    identities = [registry.identityHashOf(a) for a in accounts]
    assert ZERO_ID not in identities
    assert len(set(identities)) == len(accounts)
    for name in INSTRUMENT_CONTRACTS:
        address = platform[name].address
        assert registry.kindOf(address) == ParticipantKind.Instrument
        assert registry.identityHashOf(address) == keccak(text=f"instrument:{name}:{address}")
        assert registry.isAuthorized(address, registry.INSTRUMENT_ROLE())


# ───────────────────────────── linkWallet ─────────────────────────────


def test_link_wallet_gives_the_wallet_the_identity_kind_jurisdiction_kyc_and_role(registry, operator, exporter,
                                                                                 new_wallet):
    wallet = new_wallet()

    receipt = registry.linkWallet(wallet.address, exporter.address, sender=operator)

    assert only_event(receipt, registry.ParticipantRegistered) == {
        "account": wallet.address, "kind": ParticipantKind.Corporate, "jurisdiction": b"CN",
        "identityHash": EXPORTER_ID,
    }
    assert only_event(receipt, registry.WalletLinked) == {
        "wallet": wallet.address, "existing": exporter.address, "identityHash": EXPORTER_ID,
    }
    first, linked = registry.participant(exporter.address), registry.participant(wallet.address)
    assert (linked.kind, linked.jurisdiction, linked.frozen, linked.roles, linked.kycExpiry) == (
        ParticipantKind.Corporate, b"CN", False, 1, first.kycExpiry
    )
    assert registry.identityHashOf(wallet.address) == EXPORTER_ID
    assert registry.walletsOf(exporter.address) == registry.walletsOf(wallet.address) == [
        exporter.address, wallet.address
    ]
    assert registry.hasRole(registry.CORPORATE_ROLE(), wallet.address)
    assert registry.isActive(wallet.address)


def test_linked_wallet_moves_money_as_the_same_corporate(registry, usd, operator, bank_cn, exporter, importer,
                                                         new_wallet):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, exporter.address, sender=operator)

    usd.mint(wallet.address, 10_00, text_hash("DEP"), sender=bank_cn)
    receipt = usd.transfer(importer.address, 4_00, sender=wallet)

    assert only_event(receipt, usd.CrossBorderTransfer)["fromJurisdiction"] == b"CN"
    assert usd.balanceOf(wallet.address) == 6_00


def test_linked_wallet_shares_kyc_with_every_wallet_of_the_identity(registry, operator, regulator, bank_cn, bank_us,
                                                                    exporter, new_wallet, chain):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, exporter.address, sender=operator)

    # A bank attesting through the new wallet attests the identity: it is the same attestation.
    later = registry.participant(exporter.address).kycExpiry + DAY
    registry.attestKyc(wallet.address, KycStatus.Approved, later, text_hash("kyc"), sender=bank_us)
    a = registry.kycAttestation(exporter.address, bank_us.address)
    assert (a.status, a.expiry) == (KycStatus.Approved, later)
    assert registry.kycBanksOf(exporter.address) == registry.kycBanksOf(wallet.address)
    assert registry.participant(exporter.address).kycExpiry == registry.participant(wallet.address).kycExpiry == later

    # The regulator's revocation through one wallet reaches both; one bank's fresh approval restores both.
    registry.revokeKyc(wallet.address, text_hash("REVIEW"), sender=regulator)
    assert not registry.isActive(exporter.address) and not registry.isActive(wallet.address)
    registry.attestKyc(exporter.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("kyc"),
                       sender=bank_cn)
    assert registry.isActive(exporter.address) and registry.isActive(wallet.address)


def test_bank_withdrawing_its_approval_through_one_wallet_withdraws_it_for_all(registry, operator, bank_cn, exporter,
                                                                              new_wallet):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, exporter.address, sender=operator)

    registry.attestKyc(wallet.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_cn)

    assert registry.kycAttestation(exporter.address, bank_cn.address).status == KycStatus.Revoked
    assert not registry.isActive(exporter.address) and not registry.isActive(wallet.address)


def test_freezing_an_identity_freezes_every_wallet(registry, usd, operator, regulator, exporter, importer,
                                                   new_wallet):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, exporter.address, sender=operator)
    reason = text_hash("AML-ALERT")

    receipt = registry.freezeParticipant(exporter.address, reason, sender=regulator)

    assert events(receipt, registry.ParticipantFrozen) == [
        {"account": exporter.address, "regulator": regulator.address, "reasonCode": reason},
        {"account": wallet.address, "regulator": regulator.address, "reasonCode": reason},
    ]
    assert registry.participant(wallet.address).frozen
    with ape.reverts(usd.SettlementTokenInactiveParty, account=wallet.address):
        usd.transfer(importer.address, 0, sender=wallet)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=wallet.address):
        usd.transfer(wallet.address, 1_00, sender=importer)
    with ape.reverts(registry.ParticipantRegistryParticipantFrozen, account=wallet.address):
        registry.requireActive(wallet.address)

    # Unfreezing through either wallet unfreezes both.
    receipt = registry.unfreezeParticipant(wallet.address, text_hash("cleared"), sender=regulator)
    assert [e["account"] for e in events(receipt, registry.ParticipantUnfrozen)] == [exporter.address, wallet.address]
    assert registry.isActive(exporter.address) and registry.isActive(wallet.address)


def test_freezing_through_the_linked_wallet_freezes_the_first(registry, usd, operator, regulator, exporter, importer,
                                                              new_wallet):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, exporter.address, sender=operator)

    registry.freezeParticipant(wallet.address, text_hash("AML-ALERT"), sender=regulator)

    assert registry.participant(exporter.address).frozen
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(importer.address, 1_00, sender=exporter)


def test_wallet_linked_to_a_frozen_identity_is_frozen(registry, operator, regulator, exporter, new_wallet):
    registry.freezeParticipant(exporter.address, text_hash("AML-ALERT"), sender=regulator)
    wallet = new_wallet()

    registry.linkWallet(wallet.address, exporter.address, sender=operator)

    assert registry.participant(wallet.address).frozen
    assert not registry.isActive(wallet.address)


def test_linked_wallet_of_a_bank_holds_the_bank_role(registry, usd, operator, bank_cn, importer, new_wallet):
    wallet = new_wallet()
    registry.linkWallet(wallet.address, bank_cn.address, sender=operator)
    before = usd.balanceOf(importer.address)

    usd.mint(importer.address, 1_00, text_hash("DEP"), sender=wallet)

    assert usd.balanceOf(importer.address) - before == 1_00
    assert registry.kindOf(wallet.address) == ParticipantKind.Bank


def test_linked_wallet_gets_the_role_of_its_kind_only(registry, operator, attester):
    # The attester is also a customs authority; a further wallet is granted ATTESTER_ROLE, not CUSTOMS_ROLE.
    assert registry.hasRole(registry.CUSTOMS_ROLE(), attester.address)

    registry.linkWallet(NEWCOMER, attester.address, sender=operator)

    assert registry.kindOf(NEWCOMER) == ParticipantKind.Attester
    assert registry.hasRole(registry.ATTESTER_ROLE(), NEWCOMER)
    assert not registry.hasRole(registry.CUSTOMS_ROLE(), NEWCOMER)


# ───────────────────────────── linkWallet errors ─────────────────────────────


def test_link_wallet_fails_if_not_operator(registry, bank_cn, exporter):
    for caller in (bank_cn, exporter):
        with ape.reverts(registry.AccessControlUnauthorizedAccount, account=caller.address,
                         neededRole=registry.OPERATOR_ROLE()):
            registry.linkWallet(NEWCOMER, exporter.address, sender=caller)


def test_link_wallet_fails_if_operator_frozen(registry, operator, regulator, exporter):
    registry.freezeParticipant(operator.address, text_hash("r"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryParticipantFrozen, account=operator.address):
        registry.linkWallet(NEWCOMER, exporter.address, sender=operator)


def test_link_wallet_fails_if_existing_unknown(registry, operator, outsider):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.linkWallet(NEWCOMER, outsider.address, sender=operator)


def test_link_wallet_fails_if_wallet_is_zero_address(registry, operator, exporter):
    with ape.reverts(registry.ParticipantRegistryInvalidParticipant, account=ZERO_ADDRESS,
                     kind=ParticipantKind.Corporate):
        registry.linkWallet(ZERO_ADDRESS, exporter.address, sender=operator)


def test_link_wallet_fails_if_wallet_already_registered(registry, operator, exporter, importer):
    # Another participant's wallet (or a wallet linked already) cannot join a second identity.
    with ape.reverts(registry.ParticipantRegistryAlreadyRegistered, account=importer.address):
        registry.linkWallet(importer.address, exporter.address, sender=operator)
    registry.linkWallet(NEWCOMER, exporter.address, sender=operator)
    with ape.reverts(registry.ParticipantRegistryAlreadyRegistered, account=NEWCOMER):
        registry.linkWallet(NEWCOMER, importer.address, sender=operator)
    assert registry.identityHashOf(importer.address) != EXPORTER_ID


def test_link_wallet_fails_beyond_eight_wallets(registry, operator, exporter):
    for i in range(7):
        registry.linkWallet(placeholder(i), exporter.address, sender=operator)
    assert len(registry.walletsOf(exporter.address)) == 8

    with ape.reverts(registry.ParticipantRegistryTooManyEntries, account=exporter.address, max=8):
        registry.linkWallet(placeholder(7), exporter.address, sender=operator)


def test_registering_a_linked_identity_again_is_refused(registry, operator, exporter):
    registry.linkWallet(NEWCOMER, exporter.address, sender=operator)
    other = placeholder(99)
    with ape.reverts(registry.ParticipantRegistryIdentityTaken, identityHash=EXPORTER_ID, account=exporter.address):
        registry.registerParticipant(other, ParticipantKind.Corporate, jurisdiction("CN"), EXPORTER_ID, sender=operator)


def test_no_wallet_of_a_frozen_bank_may_mint(registry, usd, operator, regulator, bank_cn, importer, new_wallet):
    # A freeze reaches every wallet of the bank, its powers included.
    wallet = new_wallet()
    registry.linkWallet(wallet.address, bank_cn.address, sender=operator)
    registry.freezeParticipant(bank_cn.address, text_hash("licence suspended"), sender=regulator)

    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=wallet.address):
        usd.mint(importer.address, 1_00, text_hash("DEP"), sender=wallet)
