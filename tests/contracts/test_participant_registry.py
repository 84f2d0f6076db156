"""ParticipantRegistry: registration by the operator, KYC by banks, freezes by the regulator (DESIGN §1).

Every function's success path and every custom error, role checks included. Time comes from the chain:
a KYC approval is tested one second before its expiry and at its expiry by mining blocks at those times.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak, to_checksum_address

from scripts._common import (
    KIND_ATTESTER,
    KIND_BANK,
    KIND_CORPORATE,
    KIND_OPERATOR,
    KIND_REGULATOR,
    KYC_APPROVED,
    KYC_REJECTED,
    KYC_REVOKED,
    identity_hash,
    jurisdiction,
    text_hash,
)

KIND_NONE = 0
KYC_NONE = 0
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 24 * 3600

# Addresses that never send a transaction: registered in tests as new participants.
NEWCOMER = to_checksum_address("0x00000000000000000000000000000000000c0ffe")
INSTRUMENT = to_checksum_address("0x000000000000000000000000000000000000dead")
ANY_ID = identity_hash("USCC-ANY")

ROLE_OF_KIND = {
    KIND_CORPORATE: "CORPORATE_ROLE",
    KIND_BANK: "BANK_ROLE",
    KIND_REGULATOR: "REGULATOR_ROLE",
    KIND_ATTESTER: "ATTESTER_ROLE",
    KIND_OPERATOR: "OPERATOR_ROLE",
}


def only_event(receipt: Any, event_type: Any) -> dict[str, Any]:
    """The arguments of the one `event_type` log in `receipt` (fails on none or several)."""
    logs = receipt.events.filter(event_type)
    assert len(logs) == 1, f"expected one {event_type.name}, got {len(logs)}"
    return dict(logs[0].event_arguments)


def tomorrow(chain: Any) -> int:
    """A KYC expiry one day after the next block."""
    return chain.pending_timestamp + DAY


def role(registry: Any, name: str) -> bytes:
    return getattr(registry, name)()


def next_timestamp(chain: Any) -> int:
    """The timestamp the next transaction's block will carry: fixed explicitly, so both chains agree."""
    t = chain.blocks.head.timestamp + 1
    chain.pending_timestamp = t
    return t


# ───────────────────────────── Constructor ─────────────────────────────


def test_constructor_registers_operator_as_active_admin(project, chain, operator):
    ident = identity_hash("LEI-OPERATOR-2")
    fresh = operator.deploy(project.ParticipantRegistry, operator.address, jurisdiction("SG"), ident)

    receipt = chain.get_receipt(fresh.creation_metadata.txn_hash)
    assert only_event(receipt, fresh.ParticipantRegistered) == {
        "account": operator.address,
        "kind": KIND_OPERATOR,
        "jurisdiction": b"SG",
        "identityHash": ident,
    }
    assert fresh.isActive(operator.address)
    assert fresh.kindOf(operator.address) == KIND_OPERATOR
    assert fresh.hasRole(fresh.DEFAULT_ADMIN_ROLE(), operator.address)
    assert fresh.hasRole(fresh.OPERATOR_ROLE(), operator.address)
    assert fresh.identityHashOf(operator.address) == ident


def test_constructor_fails_if_operator_jurisdiction_invalid(project, operator):
    with ape.reverts(project.ParticipantRegistry.ParticipantRegistryInvalidJurisdiction, jurisdiction=b"sg"):
        operator.deploy(project.ParticipantRegistry, operator.address, b"sg", ANY_ID)


def test_constructor_fails_if_operator_is_zero_address(project, operator):
    with ape.reverts(
        project.ParticipantRegistry.ParticipantRegistryInvalidParticipant, account=ZERO_ADDRESS, kind=KIND_OPERATOR
    ):
        operator.deploy(project.ParticipantRegistry, ZERO_ADDRESS, jurisdiction("SG"), ANY_ID)


# ───────────────────────────── Registration ─────────────────────────────


@pytest.mark.parametrize("kind", sorted(ROLE_OF_KIND))
def test_register_participant_records_kind_jurisdiction_identity_and_grants_role(registry, operator, kind):
    ident = identity_hash(f"LEI-NEW-{kind}")

    receipt = registry.registerParticipant(NEWCOMER, kind, jurisdiction("SG"), ident, sender=operator)

    assert only_event(receipt, registry.ParticipantRegistered) == {
        "account": NEWCOMER,
        "kind": kind,
        "jurisdiction": b"SG",
        "identityHash": ident,
    }
    p = registry.participant(NEWCOMER)
    assert (p.kind, p.jurisdiction, p.frozen, p.kycStatus, p.kycExpiry, p.kycBank) == (
        kind, b"SG", False, KYC_NONE, 0, ZERO_ADDRESS
    )
    assert registry.kindOf(NEWCOMER) == kind
    assert registry.jurisdictionOf(NEWCOMER) == b"SG"
    assert registry.identityHashOf(NEWCOMER) == ident
    for other_kind, role_name in ROLE_OF_KIND.items():
        assert registry.hasRole(role(registry, role_name), NEWCOMER) == (other_kind == kind)


def test_registered_institution_is_active_without_kyc(registry, operator):
    registry.registerParticipant(NEWCOMER, KIND_BANK, jurisdiction("SG"), identity_hash("LEI-BANK-SG"), sender=operator)
    assert registry.isActive(NEWCOMER)


def test_registered_corporate_is_inactive_until_kyc_approved(registry, operator, bank_cn, chain):
    registry.registerParticipant(NEWCOMER, KIND_CORPORATE, jurisdiction("CN"), identity_hash("USCC-N"), sender=operator)
    assert not registry.isActive(NEWCOMER)

    registry.attestKyc(NEWCOMER, KYC_APPROVED, chain.pending_timestamp + 365 * DAY, text_hash("kyc"), sender=bank_cn)
    assert registry.isActive(NEWCOMER)


def test_register_fails_if_not_operator(registry, bank_cn, outsider):
    for caller in (bank_cn, outsider):
        with ape.reverts(
            registry.AccessControlUnauthorizedAccount, account=caller.address, neededRole=registry.OPERATOR_ROLE()
        ):
            registry.registerParticipant(NEWCOMER, KIND_CORPORATE, jurisdiction("CN"), ANY_ID, sender=caller)


def test_register_fails_if_operator_frozen(registry, operator, regulator):
    registry.freezeParticipant(operator.address, text_hash("reason"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryInactiveParticipant, account=operator.address):
        registry.registerParticipant(NEWCOMER, KIND_CORPORATE, jurisdiction("CN"), ANY_ID, sender=operator)


def test_register_fails_if_account_is_zero_address(registry, operator):
    with ape.reverts(registry.ParticipantRegistryInvalidParticipant, account=ZERO_ADDRESS, kind=KIND_CORPORATE):
        registry.registerParticipant(ZERO_ADDRESS, KIND_CORPORATE, jurisdiction("CN"), ANY_ID, sender=operator)


def test_register_fails_if_kind_is_none(registry, operator):
    with ape.reverts(registry.ParticipantRegistryInvalidParticipant, account=NEWCOMER, kind=KIND_NONE):
        registry.registerParticipant(NEWCOMER, KIND_NONE, jurisdiction("CN"), ANY_ID, sender=operator)


@pytest.mark.parametrize("code", [b"cn", b"C1", b"\x00\x00", b"C@", b"[N"])
def test_register_fails_if_jurisdiction_not_two_upper_case_letters(registry, operator, code):
    with ape.reverts(registry.ParticipantRegistryInvalidJurisdiction, jurisdiction=code):
        registry.registerParticipant(NEWCOMER, KIND_CORPORATE, code, ANY_ID, sender=operator)


def test_register_fails_if_already_registered(registry, operator, exporter):
    with ape.reverts(registry.ParticipantRegistryAlreadyRegistered, account=exporter.address):
        registry.registerParticipant(exporter.address, KIND_BANK, jurisdiction("CN"), ANY_ID, sender=operator)


# ───────────────────────────── KYC ─────────────────────────────


def test_attest_kyc_approved_records_bank_expiry_and_evidence(registry, bank_us, exporter, chain):
    expiry = chain.pending_timestamp + 30 * DAY
    evidence = text_hash("kyc-file:exporter:2026")

    receipt = registry.attestKyc(exporter.address, KYC_APPROVED, expiry, evidence, sender=bank_us)

    assert only_event(receipt, registry.KycAttested) == {
        "account": exporter.address,
        "bank": bank_us.address,
        "status": KYC_APPROVED,
        "expiry": expiry,
        "evidenceHash": evidence,
    }
    p = registry.participant(exporter.address)
    assert (p.kycStatus, p.kycExpiry, p.kycBank) == (KYC_APPROVED, expiry, bank_us.address)
    assert registry.isActive(exporter.address)


def test_kyc_approval_is_active_one_second_before_expiry_and_inactive_at_expiry(
    registry, usd, bank_cn, exporter, importer, chain
):
    expiry = chain.pending_timestamp + 100
    registry.attestKyc(exporter.address, KYC_APPROVED, expiry, text_hash("short kyc"), sender=bank_cn)

    chain.pending_timestamp = expiry - 1
    usd.transfer(importer.address, 1_00, sender=exporter)  # mined at expiry - 1: still active
    assert chain.blocks.head.timestamp == expiry - 1

    chain.pending_timestamp = expiry
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(importer.address, 1_00, sender=exporter)
    assert not registry.isActive(exporter.address)
    with ape.reverts(registry.ParticipantRegistryInactiveParticipant, account=exporter.address):
        registry.requireActive(exporter.address, KIND_CORPORATE)


def test_attest_kyc_rejected_makes_corporate_inactive_and_ignores_expiry(registry, bank_cn, exporter, chain):
    receipt = registry.attestKyc(
        exporter.address, KYC_REJECTED, tomorrow(chain), text_hash("sanctions hit"), sender=bank_cn
    )

    assert only_event(receipt, registry.KycAttested)["expiry"] == 0
    p = registry.participant(exporter.address)
    assert (p.kycStatus, p.kycExpiry, p.kycBank) == (KYC_REJECTED, 0, bank_cn.address)
    assert not registry.isActive(exporter.address)


def test_attest_kyc_fails_if_approval_expiry_not_after_now(registry, bank_cn, exporter, chain):
    now = next_timestamp(chain)
    with ape.reverts(registry.ParticipantRegistryInvalidKycExpiry, expiry=now):
        registry.attestKyc(exporter.address, KYC_APPROVED, now, text_hash("kyc"), sender=bank_cn)
    with ape.reverts(registry.ParticipantRegistryInvalidKycExpiry, expiry=now - 1):
        registry.attestKyc(exporter.address, KYC_APPROVED, now - 1, text_hash("kyc"), sender=bank_cn)


def test_attest_kyc_fails_if_status_none(registry, bank_cn, exporter, chain):
    with ape.reverts(registry.ParticipantRegistryInvalidKycStatus, status=KYC_NONE):
        registry.attestKyc(exporter.address, KYC_NONE, tomorrow(chain), text_hash("kyc"), sender=bank_cn)


def test_attest_kyc_fails_if_account_not_corporate(registry, bank_cn, bank_us, chain):
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind,
        account=bank_us.address, actual=KIND_BANK, expected=KIND_CORPORATE,
    ):
        registry.attestKyc(bank_us.address, KYC_APPROVED, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_attest_kyc_fails_if_account_unknown(registry, bank_cn, outsider, chain):
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind,
        account=outsider.address, actual=KIND_NONE, expected=KIND_CORPORATE,
    ):
        registry.attestKyc(outsider.address, KYC_APPROVED, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_attest_kyc_fails_if_caller_not_bank(registry, exporter, importer, attester, chain):
    for caller in (importer, attester):
        with ape.reverts(
            registry.AccessControlUnauthorizedAccount, account=caller.address, neededRole=registry.BANK_ROLE()
        ):
            registry.attestKyc(exporter.address, KYC_APPROVED, tomorrow(chain), text_hash("k"),
                               sender=caller)


def test_attest_kyc_fails_if_bank_frozen(registry, regulator, bank_cn, exporter, chain):
    registry.freezeParticipant(bank_cn.address, text_hash("licence suspended"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryInactiveParticipant, account=bank_cn.address):
        registry.attestKyc(exporter.address, KYC_APPROVED, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_kyc_revoke_by_attesting_bank_makes_corporate_inactive(registry, bank_cn, exporter):
    # The exporter's KYC was attested by bank_cn in the demo world.
    receipt = registry.attestKyc(exporter.address, KYC_REVOKED, 0, text_hash("revoked: fraud"), sender=bank_cn)

    assert only_event(receipt, registry.KycAttested) == {
        "account": exporter.address,
        "bank": bank_cn.address,
        "status": KYC_REVOKED,
        "expiry": 0,
        "evidenceHash": text_hash("revoked: fraud"),
    }
    assert registry.participant(exporter.address).kycStatus == KYC_REVOKED
    assert not registry.isActive(exporter.address)


def test_kyc_revoke_fails_if_not_attesting_bank(registry, bank_cn, bank_us, exporter):
    with ape.reverts(registry.ParticipantRegistryNotKycBank, account=exporter.address, kycBank=bank_cn.address):
        registry.attestKyc(exporter.address, KYC_REVOKED, 0, text_hash("not mine"), sender=bank_us)
    assert registry.isActive(exporter.address)


def test_kyc_revoke_fails_if_never_attested(registry, operator, bank_cn):
    registry.registerParticipant(NEWCOMER, KIND_CORPORATE, jurisdiction("CN"), identity_hash("USCC-N"), sender=operator)
    with ape.reverts(registry.ParticipantRegistryNotKycBank, account=NEWCOMER, kycBank=ZERO_ADDRESS):
        registry.attestKyc(NEWCOMER, KYC_REVOKED, 0, text_hash("nothing to revoke"), sender=bank_cn)


def test_kyc_reject_fails_if_another_bank_holds_a_valid_approval(registry, bank_cn, bank_us, exporter):
    with ape.reverts(registry.ParticipantRegistryNotKycBank, account=exporter.address, kycBank=bank_cn.address):
        registry.attestKyc(exporter.address, KYC_REJECTED, 0, text_hash("not mine"), sender=bank_us)
    assert registry.isActive(exporter.address)


def test_kyc_reject_by_another_bank_allowed_once_approval_expired(registry, bank_cn, bank_us, exporter, chain):
    expiry = chain.pending_timestamp + 100
    registry.attestKyc(exporter.address, KYC_APPROVED, expiry, text_hash("short kyc"), sender=bank_cn)
    chain.pending_timestamp = expiry

    registry.attestKyc(exporter.address, KYC_REJECTED, 0, text_hash("declined"), sender=bank_us)

    p = registry.participant(exporter.address)
    assert (p.kycStatus, p.kycBank) == (KYC_REJECTED, bank_us.address)


def test_fresh_approval_by_another_bank_transfers_revocation_right(registry, bank_cn, bank_us, exporter, chain):
    registry.attestKyc(exporter.address, KYC_APPROVED, tomorrow(chain), text_hash("re-kyc"), sender=bank_us)
    assert registry.participant(exporter.address).kycBank == bank_us.address

    with ape.reverts(registry.ParticipantRegistryNotKycBank, account=exporter.address, kycBank=bank_us.address):
        registry.attestKyc(exporter.address, KYC_REVOKED, 0, text_hash("old bank"), sender=bank_cn)
    registry.attestKyc(exporter.address, KYC_REVOKED, 0, text_hash("new bank"), sender=bank_us)
    assert not registry.isActive(exporter.address)


# ───────────────────────────── Participant freezes ─────────────────────────────


def test_freeze_participant_emits_event_and_makes_it_inactive(registry, regulator, importer):
    reason = keccak(text="AML-ALERT-42")

    receipt = registry.freezeParticipant(importer.address, reason, sender=regulator)

    assert only_event(receipt, registry.ParticipantFrozen) == {
        "account": importer.address,
        "regulator": regulator.address,
        "reasonCode": reason,
    }
    assert registry.participant(importer.address).frozen
    assert not registry.isActive(importer.address)
    with ape.reverts(registry.ParticipantRegistryInactiveParticipant, account=importer.address):
        registry.requireActive(importer.address, KIND_CORPORATE)


def test_unfreeze_participant_emits_event_and_restores_activity(registry, regulator, importer):
    registry.freezeParticipant(importer.address, text_hash("AML-ALERT-42"), sender=regulator)
    reason = text_hash("AML-CLEARED-42")

    receipt = registry.unfreezeParticipant(importer.address, reason, sender=regulator)

    assert only_event(receipt, registry.ParticipantUnfrozen) == {
        "account": importer.address,
        "regulator": regulator.address,
        "reasonCode": reason,
    }
    assert not registry.participant(importer.address).frozen
    assert registry.isActive(importer.address)


def test_freeze_keeps_kyc_record(registry, regulator, exporter):
    before = registry.participant(exporter.address)
    registry.freezeParticipant(exporter.address, text_hash("r"), sender=regulator)
    after = registry.participant(exporter.address)
    assert (after.kycStatus, after.kycExpiry, after.kycBank) == (before.kycStatus, before.kycExpiry, before.kycBank)


def test_freeze_fails_if_already_frozen(registry, regulator, importer):
    registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryFreezeUnchanged, frozen=True):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)


def test_unfreeze_fails_if_not_frozen(registry, regulator, importer):
    with ape.reverts(registry.ParticipantRegistryFreezeUnchanged, frozen=False):
        registry.unfreezeParticipant(importer.address, text_hash("r"), sender=regulator)


def test_freeze_fails_if_participant_unknown(registry, regulator, outsider):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.freezeParticipant(outsider.address, text_hash("r"), sender=regulator)


def test_freeze_and_unfreeze_fail_if_not_regulator(registry, operator, bank_cn, importer):
    needed = registry.REGULATOR_ROLE()
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=operator.address, neededRole=needed):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=operator)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_cn.address, neededRole=needed):
        registry.unfreezeParticipant(importer.address, text_hash("r"), sender=bank_cn)


def test_freeze_fails_for_a_regulator_itself_included(registry, regulator, importer):
    with ape.reverts(registry.ParticipantRegistryCannotFreezeRegulator, account=regulator.address):
        registry.freezeParticipant(regulator.address, text_hash("self"), sender=regulator)
    # Supervision still works afterwards.
    registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)
    assert not registry.isActive(importer.address)


# ───────────────────────────── Instrument freezes ─────────────────────────────


def test_freeze_instrument_emits_event_and_freezes_only_that_instrument(registry, regulator):
    reason = text_hash("COURT-ORDER-7")

    receipt = registry.freezeInstrument(INSTRUMENT, 7, reason, sender=regulator)

    assert only_event(receipt, registry.InstrumentFrozen) == {
        "instrument": INSTRUMENT,
        "instrumentId": 7,
        "regulator": regulator.address,
        "reasonCode": reason,
    }
    assert registry.isInstrumentFrozen(INSTRUMENT, 7)
    assert not registry.isInstrumentFrozen(INSTRUMENT, 8)
    assert not registry.isInstrumentFrozen(NEWCOMER, 7)


def test_unfreeze_instrument_emits_event_and_lifts_freeze(registry, regulator):
    registry.freezeInstrument(INSTRUMENT, 7, text_hash("COURT-ORDER-7"), sender=regulator)
    reason = text_hash("COURT-ORDER-7-LIFTED")

    receipt = registry.unfreezeInstrument(INSTRUMENT, 7, reason, sender=regulator)

    assert only_event(receipt, registry.InstrumentUnfrozen) == {
        "instrument": INSTRUMENT,
        "instrumentId": 7,
        "regulator": regulator.address,
        "reasonCode": reason,
    }
    assert not registry.isInstrumentFrozen(INSTRUMENT, 7)


def test_instrument_freeze_fails_if_unchanged(registry, regulator):
    with ape.reverts(registry.ParticipantRegistryFreezeUnchanged, frozen=False):
        registry.unfreezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=regulator)
    registry.freezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryFreezeUnchanged, frozen=True):
        registry.freezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=regulator)


def test_instrument_freeze_fails_if_not_regulator(registry, bank_cn, attester):
    needed = registry.REGULATOR_ROLE()
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_cn.address, neededRole=needed):
        registry.freezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=bank_cn)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=attester.address, neededRole=needed):
        registry.unfreezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=attester)


# ───────────────────────────── Roles granted outside registration ─────────────────────────────


def test_bank_role_granted_to_a_corporate_confers_no_kyc_authority(registry, operator, exporter, importer, chain):
    registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=operator)
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind, account=exporter.address, actual=KIND_CORPORATE, expected=KIND_BANK
    ):
        registry.attestKyc(importer.address, KYC_APPROVED, tomorrow(chain), text_hash("k"),
                           sender=exporter)


def test_regulator_role_granted_to_a_bank_confers_no_freezing_authority(registry, operator, bank_cn, importer):
    registry.grantRole(registry.REGULATOR_ROLE(), bank_cn.address, sender=operator)
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind, account=bank_cn.address, actual=KIND_BANK, expected=KIND_REGULATOR
    ):
        registry.freezeParticipant(importer.address, text_hash("r"), sender=bank_cn)
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind, account=bank_cn.address, actual=KIND_BANK, expected=KIND_REGULATOR
    ):
        registry.freezeInstrument(INSTRUMENT, 1, text_hash("r"), sender=bank_cn)


def test_operator_role_granted_to_an_unregistered_account_confers_nothing(registry, operator, outsider):
    registry.grantRole(registry.OPERATOR_ROLE(), outsider.address, sender=operator)
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind, account=outsider.address, actual=KIND_NONE, expected=KIND_OPERATOR
    ):
        registry.registerParticipant(NEWCOMER, KIND_BANK, jurisdiction("SG"), ANY_ID, sender=outsider)


def test_only_admin_grants_roles(registry, bank_cn, exporter):
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=bank_cn.address, neededRole=registry.DEFAULT_ADMIN_ROLE()
    ):
        registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=bank_cn)


def test_bank_that_renounces_its_role_can_no_longer_attest(registry, bank_us, importer, chain):
    registry.renounceRole(registry.BANK_ROLE(), bank_us.address, sender=bank_us)
    needed = registry.BANK_ROLE()
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_us.address, neededRole=needed):
        registry.attestKyc(importer.address, KYC_APPROVED, tomorrow(chain), text_hash("k"), sender=bank_us)


def test_renounce_role_fails_unless_confirmed_by_the_holder(registry, bank_us, bank_cn):
    with ape.reverts(registry.AccessControlBadConfirmation):
        registry.renounceRole(registry.BANK_ROLE(), bank_us.address, sender=bank_cn)
    assert registry.hasRole(registry.BANK_ROLE(), bank_us.address)


# ───────────────────────────── Views ─────────────────────────────


def test_require_active_passes_for_active_participant_of_expected_or_any_kind(registry, exporter, bank_cn):
    registry.requireActive(exporter.address, KIND_CORPORATE)
    registry.requireActive(exporter.address, KIND_NONE)
    registry.requireActive(bank_cn.address, KIND_BANK)


def test_require_active_fails_if_unknown(registry, outsider):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.requireActive(outsider.address, KIND_NONE)


def test_require_active_fails_if_kind_unexpected(registry, exporter):
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind, account=exporter.address, actual=KIND_CORPORATE, expected=KIND_BANK
    ):
        registry.requireActive(exporter.address, KIND_BANK)


def test_transfer_profile_reports_activity_and_jurisdictions(registry, regulator, exporter, importer, outsider):
    assert registry.transferProfile(exporter.address, importer.address) == (True, True, b"CN", b"US")
    registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)
    assert registry.transferProfile(exporter.address, importer.address) == (True, False, b"CN", b"US")
    assert registry.transferProfile(outsider.address, exporter.address) == (False, True, b"\x00\x00", b"CN")


def test_transfer_from_profile_allows_unregistered_or_active_spenders_only(
    registry, regulator, bank_cn, exporter, importer, supplier1, outsider
):
    # An unregistered spender (an instrument contract) and an active participant may spend an allowance.
    assert registry.transferFromProfile(outsider.address, exporter.address, importer.address) == (
        True, True, True, b"CN", b"US"
    )
    assert registry.transferFromProfile(supplier1.address, exporter.address, importer.address) == (
        True, True, True, b"CN", b"US"
    )
    # A frozen one, or a corporate whose KYC was revoked, may not.
    registry.freezeParticipant(supplier1.address, text_hash("r"), sender=regulator)
    assert registry.transferFromProfile(supplier1.address, exporter.address, importer.address) == (
        False, True, True, b"CN", b"US"
    )
    registry.attestKyc(exporter.address, KYC_REVOKED, 0, text_hash("revoked"), sender=bank_cn)
    assert registry.transferFromProfile(exporter.address, importer.address, outsider.address) == (
        False, True, False, b"US", b"\x00\x00"
    )


def test_unknown_account_reads_as_none(registry, outsider):
    assert registry.kindOf(outsider.address) == KIND_NONE
    assert registry.jurisdictionOf(outsider.address) == b"\x00\x00"
    assert registry.identityHashOf(outsider.address) == b"\x00" * 32
    assert not registry.isActive(outsider.address)
