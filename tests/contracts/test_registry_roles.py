"""Roles decide (M4; DESIGN §1 "Authority is one check").

An account is *authorized* for a role when it holds the role and is *active*: registered, still holding the
role of its own kind (its membership), not frozen and, for a corporate, KYC-valid. The registry decides that
in one place (`requireAuthorized`); the settlement tokens ask it before minting, burning and setting the
reporting threshold, and ask whether every party is active before each transfer. So revoking a role
takes away every power of that role at once, and a role the admin grants to a participant of another kind
confers that role's power.
"""

from __future__ import annotations

from typing import Any

import ape
from _reverts import reverts_with
from eth_utils import to_checksum_address

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import identity_hash, jurisdiction, text_hash

DAY = 24 * 3600
NEWCOMER = to_checksum_address("0x00000000000000000000000000000000000c0ffe")
INSTRUMENT = to_checksum_address("0x000000000000000000000000000000000000dead")


def role(registry: Any, name: str) -> bytes:
    return getattr(registry, name)()


def revoke(registry: Any, operator: Any, name: str, account: Any) -> None:
    registry.revokeRole(role(registry, name), account.address, sender=operator)
    assert not registry.hasRole(role(registry, name), account.address)


# ───────────────────────────── Revoking a role revokes its powers ─────────────────────────────


def test_M4_bank_whose_bank_role_was_revoked_cannot_mint_or_burn(registry, usd, operator, bank_us, importer):
    revoke(registry, operator, "BANK_ROLE", bank_us)
    supply, balance = usd.totalSupply(), usd.balanceOf(importer.address)

    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.BANK_ROLE()):
        usd.mint(importer.address, 1_00, text_hash("DEP"), sender=bank_us)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.BANK_ROLE()):
        usd.burn(1_00, text_hash("WDR"), sender=bank_us)

    assert (usd.totalSupply(), usd.balanceOf(importer.address)) == (supply, balance)


def test_M4_bank_whose_bank_role_was_revoked_cannot_attest_kyc(registry, operator, bank_us, importer, chain):
    before = registry.kycAttestation(importer.address, bank_us.address)
    revoke(registry, operator, "BANK_ROLE", bank_us)

    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                     neededRole=registry.BANK_ROLE()):
        registry.attestKyc(importer.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("k"),
                           sender=bank_us)

    after = registry.kycAttestation(importer.address, bank_us.address)
    assert (after.status, after.expiry) == (before.status, before.expiry)


def test_M4_regulator_whose_role_was_revoked_cannot_switch_large_value_reporting_off(
    registry, usd, operator, regulator, importer, exporter
):
    usd.setLargeValueThreshold(1_000_00, sender=regulator)
    revoke(registry, operator, "REGULATOR_ROLE", regulator)

    with reverts_with(registry.AccessControlUnauthorizedAccount, account=regulator.address,
                      neededRole=registry.REGULATOR_ROLE()):
        usd.setLargeValueThreshold(0, sender=regulator)

    assert usd.largeValueThreshold() == 1_000_00
    receipt = usd.transfer(exporter.address, 1_000_00, sender=importer)
    assert len(receipt.events.filter(usd.LargeValueReported)) == 1  # reporting is still on


def test_regulator_whose_role_was_revoked_supervises_nothing(registry, operator, regulator, importer):
    revoke(registry, operator, "REGULATOR_ROLE", regulator)
    needed = registry.REGULATOR_ROLE()

    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=regulator.address, neededRole=needed):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=regulator.address, neededRole=needed):
        registry.freezeInstrument(INSTRUMENT, 1, text_hash("r"), sender=regulator)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=regulator.address, neededRole=needed):
        registry.revokeKyc(importer.address, text_hash("r"), sender=regulator)
    assert registry.isActive(importer.address)


def test_regranting_the_role_restores_its_power(registry, usd, operator, bank_us, importer):
    revoke(registry, operator, "BANK_ROLE", bank_us)
    registry.grantRole(registry.BANK_ROLE(), bank_us.address, sender=operator)
    before = usd.balanceOf(importer.address)

    usd.mint(importer.address, 1_00, text_hash("DEP"), sender=bank_us)

    assert usd.balanceOf(importer.address) - before == 1_00


# ───────────────────────────── The role of its kind is membership ─────────────────────────────


def test_revoking_a_corporates_kind_role_makes_it_inactive_for_token_transfers(
    registry, usd, operator, exporter, importer, supplier1
):
    usd.approve(supplier1.address, 10_00, sender=importer)
    usd.approve(exporter.address, 10_00, sender=importer)
    revoke(registry, operator, "CORPORATE_ROLE", exporter)
    balances = (usd.balanceOf(exporter.address), usd.balanceOf(importer.address))

    assert not registry.isActive(exporter.address)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=exporter.address,
                     neededRole=registry.CORPORATE_ROLE()):
        registry.requireActive(exporter.address)
    # It can neither send, nor receive, nor spend an allowance.
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(importer.address, 1_00, sender=exporter)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(exporter.address, 1_00, sender=importer)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transferFrom(importer.address, exporter.address, 1_00, sender=supplier1)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transferFrom(importer.address, supplier1.address, 1_00, sender=exporter)
    assert (usd.balanceOf(exporter.address), usd.balanceOf(importer.address)) == balances

    # Its KYC and freeze state are untouched: granting the role back makes it active again.
    registry.grantRole(registry.CORPORATE_ROLE(), exporter.address, sender=operator)
    usd.transfer(importer.address, 1_00, sender=exporter)
    assert usd.balanceOf(exporter.address) == balances[0] - 1_00


def test_revoking_a_banks_kind_role_removes_it_from_every_flow(registry, usd, operator, bank_cn, exporter):
    revoke(registry, operator, "BANK_ROLE", bank_cn)

    assert not registry.isActive(bank_cn.address)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=bank_cn.address):
        usd.transfer(exporter.address, 1_00, sender=bank_cn)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=bank_cn.address):
        usd.transfer(bank_cn.address, 1_00, sender=exporter)


def test_another_role_confers_nothing_once_the_kind_role_is_gone(registry, usd, operator, bank_cn, importer):
    # A bank that also holds REGULATOR_ROLE, but is no longer a member (BANK_ROLE revoked), may not use it.
    registry.grantRole(registry.REGULATOR_ROLE(), bank_cn.address, sender=operator)
    revoke(registry, operator, "BANK_ROLE", bank_cn)

    assert registry.hasRole(registry.REGULATOR_ROLE(), bank_cn.address)
    assert not registry.isAuthorized(bank_cn.address, registry.REGULATOR_ROLE())
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                     neededRole=registry.BANK_ROLE()):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=bank_cn)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                      neededRole=registry.BANK_ROLE()):
        usd.setLargeValueThreshold(1, sender=bank_cn)


# ───────────────────────────── A role granted to another kind ─────────────────────────────


def test_bank_role_granted_to_a_corporate_lets_it_mint_and_attest(registry, usd, operator, exporter, importer,
                                                                  supplier1, chain):
    registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=operator)
    before = usd.balanceOf(importer.address)

    receipt = usd.mint(importer.address, 7_00, text_hash("DEP-BY-EXPORTER"), sender=exporter)
    expiry = chain.pending_timestamp + DAY
    registry.attestKyc(supplier1.address, KycStatus.Approved, expiry, text_hash("kyc"), sender=exporter)

    [minted] = receipt.events.filter(usd.DepositMinted)
    assert minted.bank == exporter.address
    assert usd.balanceOf(importer.address) - before == 7_00
    a = registry.kycAttestation(supplier1.address, exporter.address)
    assert (a.status, a.expiry) == (KycStatus.Approved, expiry)


def test_regulator_role_granted_to_a_bank_lets_it_set_the_threshold(registry, usd, operator, bank_cn):
    registry.grantRole(registry.REGULATOR_ROLE(), bank_cn.address, sender=operator)

    receipt = usd.setLargeValueThreshold(5_000_00, sender=bank_cn)

    [event] = receipt.events.filter(usd.LargeValueThresholdSet)
    assert (event.regulator, event.threshold) == (bank_cn.address, 5_000_00)
    assert usd.largeValueThreshold() == 5_000_00


def test_operator_role_granted_to_an_attester_lets_it_register(registry, operator, attester):
    registry.grantRole(registry.OPERATOR_ROLE(), attester.address, sender=operator)

    registry.registerParticipant(NEWCOMER, ParticipantKind.Bank, jurisdiction("SG"), identity_hash("LEI-BANK-SG"),
                                 sender=attester)

    assert registry.kindOf(NEWCOMER) == ParticipantKind.Bank


def test_granted_role_needs_its_holder_active(registry, usd, operator, regulator, bank_cn, exporter, importer):
    registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=operator)

    registry.freezeParticipant(exporter.address, text_hash("AML"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        usd.mint(importer.address, 1_00, text_hash("DEP"), sender=exporter)
    registry.unfreezeParticipant(exporter.address, text_hash("cleared"), sender=regulator)

    registry.revokeKyc(exporter.address, text_hash("KYC-REVIEW"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryKycNotValid, account=exporter.address):
        usd.mint(importer.address, 1_00, text_hash("DEP"), sender=exporter)


def test_role_granted_before_registration_counts_once_registered(registry, operator, new_wallet, importer):
    newcomer = new_wallet()
    registry.grantRole(registry.REGULATOR_ROLE(), newcomer.address, sender=operator)
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=newcomer.address):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=newcomer)

    registry.registerParticipant(newcomer.address, ParticipantKind.Attester, jurisdiction("CN"),
                                 identity_hash("CN-INSPECT"),
                                 sender=operator)

    assert registry.hasRole(registry.ATTESTER_ROLE(), newcomer.address)
    registry.freezeParticipant(importer.address, text_hash("r"), sender=newcomer)
    assert registry.participant(importer.address).frozen


# ───────────────────────────── Granting and revoking ─────────────────────────────


def test_grant_and_revoke_keep_the_role_bitmap_and_emit_accesscontrol_events(registry, operator, exporter):
    bank_role = registry.BANK_ROLE()
    assert registry.participant(exporter.address).roles == 1  # CORPORATE_ROLE

    granted = registry.grantRole(bank_role, exporter.address, sender=operator)
    [event] = granted.events.filter(registry.RoleGranted)
    assert (event.role, event.account, event.sender) == (bank_role, exporter.address, operator.address)
    assert registry.participant(exporter.address).roles == 1 | 2
    assert registry.grantRole(bank_role, exporter.address, sender=operator).events.filter(registry.RoleGranted) == []

    revoked = registry.revokeRole(bank_role, exporter.address, sender=operator)
    [event] = revoked.events.filter(registry.RoleRevoked)
    assert (event.role, event.account, event.sender) == (bank_role, exporter.address, operator.address)
    assert registry.participant(exporter.address).roles == 1


def test_only_admin_revokes_roles(registry, bank_cn, bank_us):
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                     neededRole=registry.DEFAULT_ADMIN_ROLE()):
        registry.revokeRole(registry.BANK_ROLE(), bank_us.address, sender=bank_cn)
    assert registry.isAuthorized(bank_us.address, registry.BANK_ROLE())
