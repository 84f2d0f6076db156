"""ParticipantRegistry: registration by the operator, KYC by banks, freezes by the regulator (DESIGN §1).

Every function's success path and every custom error, role checks included. The rules forge fuzzes are
checked there only (`tests/foundry/ParticipantRegistry.t.sol`): activity strictly before the KYC expiry (one
second before and at it, by name in the registry and the token), an approval's expiry in the future, and
jurisdictions of two upper-case letters. The rules the audit hardened have files of their own: roles
(`test_registry_roles.py`), KYC per bank (`test_registry_kyc.py`), identities and linked wallets
(`test_registry_identity.py`).
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils import keccak, to_checksum_address

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import identity_hash, jurisdiction, text_hash

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
DAY = 24 * 3600

# Addresses that never send a transaction: registered in tests as new participants.
NEWCOMER = to_checksum_address("0x00000000000000000000000000000000000c0ffe")
INSTRUMENT = to_checksum_address("0x000000000000000000000000000000000000dead")
ANY_ID = identity_hash("USCC-ANY")

ROLE_OF_KIND = {
    ParticipantKind.Corporate: "CORPORATE_ROLE",
    ParticipantKind.Bank: "BANK_ROLE",
    ParticipantKind.Regulator: "REGULATOR_ROLE",
    ParticipantKind.Attester: "ATTESTER_ROLE",
    ParticipantKind.Operator: "OPERATOR_ROLE",
    ParticipantKind.Instrument: "INSTRUMENT_ROLE",
}
# `Roles.bit`: the bit of each kind's role in `Participant.roles` (the bits follow the kinds' order).
ROLE_BIT_OF_KIND = {kind: 1 << (kind - 1) for kind in ROLE_OF_KIND}


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


def attestation(registry: Any, account: Any, bank: Any) -> tuple[int, int]:
    """`bank`'s own KYC attestation of `account`'s identity, as (status, expiry)."""
    a = registry.kycAttestation(account.address if hasattr(account, "address") else account, bank.address)
    return a.status, a.expiry


# ───────────────────────────── Constructor ─────────────────────────────


def test_constructor_registers_operator_as_active_admin(project, chain, platform, operator):
    ident = identity_hash("LEI-OPERATOR-2")
    forwarder = platform["Forwarder"]
    fresh = operator.deploy(project.ParticipantRegistry, operator.address, jurisdiction("SG"), ident,
                            forwarder.address)

    receipt = chain.get_receipt(fresh.creation_metadata.txn_hash)
    assert only_event(receipt, fresh.ParticipantRegistered) == {
        "account": operator.address,
        "kind": ParticipantKind.Operator,
        "jurisdiction": b"SG",
        "identityHash": ident,
    }
    assert fresh.isActive(operator.address)
    assert fresh.kindOf(operator.address) == ParticipantKind.Operator
    assert fresh.hasRole(fresh.DEFAULT_ADMIN_ROLE(), operator.address)
    assert fresh.hasRole(fresh.OPERATOR_ROLE(), operator.address)
    assert fresh.identityHashOf(operator.address) == ident
    assert fresh.walletsOf(operator.address) == [operator.address]
    assert fresh.isTrustedForwarder(forwarder.address)


def test_constructor_fails_if_operator_jurisdiction_invalid(project, operator):
    with ape.reverts(project.ParticipantRegistry.ParticipantRegistryInvalidJurisdiction, jurisdiction=b"sg"):
        operator.deploy(project.ParticipantRegistry, operator.address, b"sg", ANY_ID, ZERO_ADDRESS)


def test_constructor_fails_if_operator_is_zero_address(project, operator):
    with ape.reverts(
        project.ParticipantRegistry.ParticipantRegistryInvalidParticipant, account=ZERO_ADDRESS,
        kind=ParticipantKind.Operator,
    ):
        operator.deploy(project.ParticipantRegistry, ZERO_ADDRESS, jurisdiction("SG"), ANY_ID, ZERO_ADDRESS)


def test_constructor_fails_if_operator_identity_is_zero(project, operator):
    with ape.reverts(project.ParticipantRegistry.ParticipantRegistryInvalidIdentity):
        operator.deploy(project.ParticipantRegistry, operator.address, jurisdiction("SG"), b"\x00" * 32, ZERO_ADDRESS)


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
    assert (p.kind, p.jurisdiction, p.frozen, p.roles, p.kycExpiry) == (
        kind, b"SG", False, ROLE_BIT_OF_KIND[kind], 0
    )
    assert registry.kindOf(NEWCOMER) == kind
    assert registry.jurisdictionOf(NEWCOMER) == b"SG"
    assert registry.identityHashOf(NEWCOMER) == ident
    assert registry.walletsOf(NEWCOMER) == [NEWCOMER]
    assert registry.kycBanksOf(NEWCOMER) == []
    for other_kind, role_name in ROLE_OF_KIND.items():
        assert registry.hasRole(role(registry, role_name), NEWCOMER) == (other_kind == kind)


def test_registered_institution_is_active_without_kyc(registry, operator):
    registry.registerParticipant(NEWCOMER, ParticipantKind.Bank, jurisdiction("SG"), identity_hash("LEI-BANK-SG"),
                                 sender=operator)
    assert registry.isActive(NEWCOMER)


def test_registered_corporate_is_inactive_until_kyc_approved(registry, operator, bank_cn, chain):
    registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), identity_hash("USCC-N"),
                                 sender=operator)
    assert not registry.isActive(NEWCOMER)

    registry.attestKyc(NEWCOMER, KycStatus.Approved, chain.pending_timestamp + 365 * DAY, text_hash("kyc"),
                       sender=bank_cn)
    assert registry.isActive(NEWCOMER)


def test_register_fails_if_not_operator(registry, bank_cn, outsider):
    for caller in (bank_cn, outsider):
        with ape.reverts(
            registry.AccessControlUnauthorizedAccount, account=caller.address, neededRole=registry.OPERATOR_ROLE()
        ):
            registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), ANY_ID, sender=caller)


def test_register_fails_if_operator_frozen(registry, operator, regulator):
    registry.freezeParticipant(operator.address, text_hash("reason"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryParticipantFrozen, account=operator.address):
        registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), ANY_ID, sender=operator)


def test_register_fails_if_account_is_zero_address(registry, operator):
    with ape.reverts(registry.ParticipantRegistryInvalidParticipant, account=ZERO_ADDRESS,
                     kind=ParticipantKind.Corporate):
        registry.registerParticipant(ZERO_ADDRESS, ParticipantKind.Corporate, jurisdiction("CN"), ANY_ID,
                                     sender=operator)


def test_register_fails_if_kind_is_none(registry, operator):
    with ape.reverts(registry.ParticipantRegistryInvalidParticipant, account=NEWCOMER, kind=ParticipantKind["None"]):
        registry.registerParticipant(NEWCOMER, ParticipantKind["None"], jurisdiction("CN"), ANY_ID, sender=operator)


def test_register_fails_if_already_registered(registry, operator, exporter):
    with ape.reverts(registry.ParticipantRegistryAlreadyRegistered, account=exporter.address):
        registry.registerParticipant(exporter.address, ParticipantKind.Bank, jurisdiction("CN"), ANY_ID,
                                     sender=operator)


# ───────────────────────────── KYC ─────────────────────────────


def test_attest_kyc_approved_records_bank_expiry_and_evidence(registry, operator, bank_us, chain):
    ident = identity_hash("USCC-N")
    registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), ident, sender=operator)
    expiry = chain.pending_timestamp + 30 * DAY
    evidence = text_hash("kyc-file:newcomer:2026")

    receipt = registry.attestKyc(NEWCOMER, KycStatus.Approved, expiry, evidence, sender=bank_us)

    assert only_event(receipt, registry.KycAttested) == {
        "account": NEWCOMER,
        "bank": bank_us.address,
        "status": KycStatus.Approved,
        "expiry": expiry,
        "evidenceHash": evidence,
    }
    assert only_event(receipt, registry.KycValidityChanged) == {"identityHash": ident, "validUntil": expiry}
    assert attestation(registry, NEWCOMER, bank_us) == (KycStatus.Approved, expiry)
    assert registry.participant(NEWCOMER).kycExpiry == expiry
    assert registry.kycBanksOf(NEWCOMER) == [bank_us.address]
    assert registry.isActive(NEWCOMER)


def test_attest_kyc_rejected_makes_corporate_inactive_and_ignores_expiry(registry, bank_cn, exporter, chain):
    receipt = registry.attestKyc(
        exporter.address, KycStatus.Rejected, tomorrow(chain), text_hash("sanctions hit"), sender=bank_cn
    )

    assert only_event(receipt, registry.KycAttested)["expiry"] == 0
    # bank_cn's approval was the exporter's only one: its rejection ends the exporter's KYC validity.
    assert attestation(registry, exporter, bank_cn) == (KycStatus.Rejected, 0)
    assert registry.participant(exporter.address).kycExpiry == 0
    assert only_event(receipt, registry.KycValidityChanged) == {
        "identityHash": registry.identityHashOf(exporter.address), "validUntil": 0,
    }
    assert not registry.isActive(exporter.address)


def test_attest_kyc_fails_if_status_none(registry, bank_cn, exporter, chain):
    with ape.reverts(registry.ParticipantRegistryInvalidKycStatus, status=KycStatus["None"]):
        registry.attestKyc(exporter.address, KycStatus["None"], tomorrow(chain), text_hash("kyc"), sender=bank_cn)


def test_attest_kyc_fails_if_account_not_corporate(registry, bank_cn, bank_us, chain):
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind,
        account=bank_us.address, actual=ParticipantKind.Bank, expected=ParticipantKind.Corporate,
    ):
        registry.attestKyc(bank_us.address, KycStatus.Approved, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_attest_kyc_fails_if_account_unknown(registry, bank_cn, outsider, chain):
    with ape.reverts(
        registry.ParticipantRegistryUnexpectedKind,
        account=outsider.address, actual=ParticipantKind["None"], expected=ParticipantKind.Corporate,
    ):
        registry.attestKyc(outsider.address, KycStatus.Approved, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_attest_kyc_fails_if_caller_not_bank(registry, exporter, importer, attester, chain):
    for caller in (importer, attester):
        with ape.reverts(
            registry.AccessControlUnauthorizedAccount, account=caller.address, neededRole=registry.BANK_ROLE()
        ):
            registry.attestKyc(exporter.address, KycStatus.Approved, tomorrow(chain), text_hash("k"),
                               sender=caller)


def test_attest_kyc_fails_if_bank_frozen(registry, regulator, bank_cn, exporter, chain):
    registry.freezeParticipant(bank_cn.address, text_hash("licence suspended"), sender=regulator)
    with ape.reverts(registry.ParticipantRegistryParticipantFrozen, account=bank_cn.address):
        registry.attestKyc(exporter.address, KycStatus.Approved, tomorrow(chain), text_hash("k"), sender=bank_cn)


def test_kyc_revoke_by_attesting_bank_makes_corporate_inactive(registry, bank_cn, exporter):
    # The exporter's KYC was attested by bank_cn in the demo world.
    receipt = registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("revoked: fraud"), sender=bank_cn)

    assert only_event(receipt, registry.KycAttested) == {
        "account": exporter.address,
        "bank": bank_cn.address,
        "status": KycStatus.Revoked,
        "expiry": 0,
        "evidenceHash": text_hash("revoked: fraud"),
    }
    assert attestation(registry, exporter, bank_cn) == (KycStatus.Revoked, 0)
    assert registry.participant(exporter.address).kycExpiry == 0
    assert not registry.isActive(exporter.address)


def test_kyc_revoke_by_another_bank_revokes_only_its_own_attestation(registry, bank_cn, bank_us, exporter):
    # M5: bank_us cannot take away bank_cn's approval; it records its own revocation, nothing more.
    approval = attestation(registry, exporter, bank_cn)
    valid_until = registry.participant(exporter.address).kycExpiry

    receipt = registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("not mine"), sender=bank_us)

    assert attestation(registry, exporter, bank_us) == (KycStatus.Revoked, 0)
    assert attestation(registry, exporter, bank_cn) == approval == (KycStatus.Approved, valid_until)
    assert registry.participant(exporter.address).kycExpiry == valid_until
    assert receipt.events.filter(registry.KycValidityChanged) == []
    assert registry.isActive(exporter.address)


def test_kyc_revoke_by_a_bank_that_never_attested_is_recorded_as_its_own(registry, operator, bank_cn):
    registry.registerParticipant(NEWCOMER, ParticipantKind.Corporate, jurisdiction("CN"), identity_hash("USCC-N"),
                                 sender=operator)

    receipt = registry.attestKyc(NEWCOMER, KycStatus.Revoked, 0, text_hash("nothing to revoke"), sender=bank_cn)

    assert attestation(registry, NEWCOMER, bank_cn) == (KycStatus.Revoked, 0)
    assert registry.kycBanksOf(NEWCOMER) == [bank_cn.address]
    assert receipt.events.filter(registry.KycValidityChanged) == []  # it was never valid
    assert not registry.isActive(NEWCOMER)


def test_kyc_reject_by_another_bank_leaves_a_valid_approval_standing(registry, bank_cn, bank_us, exporter):
    registry.attestKyc(exporter.address, KycStatus.Rejected, 0, text_hash("not mine"), sender=bank_us)

    assert attestation(registry, exporter, bank_us) == (KycStatus.Rejected, 0)
    assert attestation(registry, exporter, bank_cn)[0] == KycStatus.Approved
    assert registry.isActive(exporter.address)


def test_kyc_reject_by_another_bank_once_approval_expired(registry, bank_cn, bank_us, exporter, chain):
    expiry = chain.pending_timestamp + 100
    registry.attestKyc(exporter.address, KycStatus.Approved, expiry, text_hash("short kyc"), sender=bank_cn)
    chain.pending_timestamp = expiry

    registry.attestKyc(exporter.address, KycStatus.Rejected, 0, text_hash("declined"), sender=bank_us)

    assert attestation(registry, exporter, bank_us) == (KycStatus.Rejected, 0)
    assert attestation(registry, exporter, bank_cn) == (KycStatus.Approved, expiry)  # lapsed, and still bank_cn's
    assert not registry.isActive(exporter.address)


def test_corporate_stays_valid_until_every_approving_bank_has_revoked(registry, bank_cn, bank_us, exporter, chain):
    # A second bank's approval no longer takes the first bank's over: each revokes only its own.
    expiry = tomorrow(chain)
    registry.attestKyc(exporter.address, KycStatus.Approved, expiry, text_hash("re-kyc"), sender=bank_us)
    assert registry.kycBanksOf(exporter.address) == [bank_cn.address, bank_us.address]

    registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("old bank"), sender=bank_cn)
    assert registry.participant(exporter.address).kycExpiry == expiry  # bank_us's approval carries it
    assert registry.isActive(exporter.address)

    registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("new bank"), sender=bank_us)
    assert registry.participant(exporter.address).kycExpiry == 0
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
    with ape.reverts(registry.ParticipantRegistryParticipantFrozen, account=importer.address):
        registry.requireActive(importer.address)


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


def test_freeze_keeps_kyc_record(registry, regulator, bank_cn, exporter):
    before = (registry.participant(exporter.address).kycExpiry, attestation(registry, exporter, bank_cn))
    registry.freezeParticipant(exporter.address, text_hash("r"), sender=regulator)
    after = (registry.participant(exporter.address).kycExpiry, attestation(registry, exporter, bank_cn))
    assert after == before
    assert before[0] > 0


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


def test_instrument_freeze_reads_unfrozen_with_no_time_for_an_instrument_never_frozen(registry):
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (False, 0)


def test_instrument_freeze_counts_the_current_freeze_up_to_now(registry, regulator, chain):
    frozen_at = next_timestamp(chain)
    registry.freezeInstrument(INSTRUMENT, 7, text_hash("r"), sender=regulator)
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (True, 0)

    chain.mine(timestamp=frozen_at + 3 * DAY)

    assert registry.instrumentFreeze(INSTRUMENT, 7) == (True, 3 * DAY)
    assert registry.instrumentFreeze(INSTRUMENT, 8) == (False, 0)  # only that instrument


def test_instrument_freeze_keeps_the_total_time_across_freezes(registry, regulator, chain):
    # L5: an instrument extends a deadline by the time it was frozen, so the registry keeps the total.
    t = next_timestamp(chain)
    registry.freezeInstrument(INSTRUMENT, 7, text_hash("first"), sender=regulator)
    chain.pending_timestamp = t + 2 * DAY
    registry.unfreezeInstrument(INSTRUMENT, 7, text_hash("lifted"), sender=regulator)
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (False, 2 * DAY)

    chain.mine(timestamp=t + 10 * DAY)  # unfrozen time does not count
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (False, 2 * DAY)

    chain.pending_timestamp = t + 11 * DAY
    registry.freezeInstrument(INSTRUMENT, 7, text_hash("second"), sender=regulator)
    chain.mine(timestamp=t + 11 * DAY + 3600)
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (True, 2 * DAY + 3600)
    assert registry.isInstrumentFrozen(INSTRUMENT, 7)

    chain.pending_timestamp = t + 12 * DAY
    registry.unfreezeInstrument(INSTRUMENT, 7, text_hash("lifted again"), sender=regulator)
    assert registry.instrumentFreeze(INSTRUMENT, 7) == (False, 3 * DAY)


# ───────────────────────────── Roles granted outside registration ─────────────────────────────


# M4: roles decide, not kinds. A role the admin grants to a participant of another kind confers that role's
# power (the participant must still be active: registered, a member of its own kind, unfrozen, KYC-valid).


def test_bank_role_granted_to_a_corporate_confers_kyc_authority(registry, operator, exporter, importer, chain):
    registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=operator)
    expiry = tomorrow(chain)

    registry.attestKyc(importer.address, KycStatus.Approved, expiry, text_hash("k"), sender=exporter)

    assert attestation(registry, importer, exporter) == (KycStatus.Approved, expiry)
    assert exporter.address in registry.kycBanksOf(importer.address)


def test_regulator_role_granted_to_a_bank_confers_freezing_authority(registry, operator, bank_cn, importer):
    registry.grantRole(registry.REGULATOR_ROLE(), bank_cn.address, sender=operator)

    registry.freezeParticipant(importer.address, text_hash("r"), sender=bank_cn)
    registry.freezeInstrument(INSTRUMENT, 1, text_hash("r"), sender=bank_cn)

    assert registry.participant(importer.address).frozen
    assert registry.isInstrumentFrozen(INSTRUMENT, 1)


def test_operator_role_granted_to_an_unregistered_account_confers_nothing(registry, operator, outsider):
    registry.grantRole(registry.OPERATOR_ROLE(), outsider.address, sender=operator)
    assert registry.hasRole(registry.OPERATOR_ROLE(), outsider.address)
    assert not registry.isAuthorized(outsider.address, registry.OPERATOR_ROLE())
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.registerParticipant(NEWCOMER, ParticipantKind.Bank, jurisdiction("SG"), ANY_ID, sender=outsider)


def test_only_admin_grants_roles(registry, bank_cn, exporter):
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=bank_cn.address, neededRole=registry.DEFAULT_ADMIN_ROLE()
    ):
        registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=bank_cn)


def test_bank_that_renounces_its_role_can_no_longer_attest(registry, bank_us, importer, chain):
    registry.renounceRole(registry.BANK_ROLE(), bank_us.address, sender=bank_us)
    needed = registry.BANK_ROLE()
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=bank_us.address, neededRole=needed):
        registry.attestKyc(importer.address, KycStatus.Approved, tomorrow(chain), text_hash("k"), sender=bank_us)


def test_renounce_role_fails_unless_confirmed_by_the_holder(registry, bank_us, bank_cn):
    with ape.reverts(registry.AccessControlBadConfirmation):
        registry.renounceRole(registry.BANK_ROLE(), bank_us.address, sender=bank_cn)
    assert registry.hasRole(registry.BANK_ROLE(), bank_us.address)


# ───────────────────────────── Views ─────────────────────────────


def test_require_active_and_authorized_pass_for_active_participant_with_the_role(registry, exporter, bank_cn):
    registry.requireActive(exporter.address)
    registry.requireActive(bank_cn.address)
    registry.requireAuthorized(exporter.address, registry.CORPORATE_ROLE())
    registry.requireAuthorized(bank_cn.address, registry.BANK_ROLE())
    assert registry.isAuthorized(exporter.address, registry.CORPORATE_ROLE())
    assert registry.isAuthorized(bank_cn.address, registry.BANK_ROLE())


def test_require_active_fails_if_unknown(registry, outsider):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.requireActive(outsider.address)


def test_require_authorized_fails_if_role_missing(registry, exporter):
    # A kind no longer answers "may it act as a bank?": the role does.
    with ape.reverts(
        registry.AccessControlUnauthorizedAccount, account=exporter.address, neededRole=registry.BANK_ROLE()
    ):
        registry.requireAuthorized(exporter.address, registry.BANK_ROLE())
    assert not registry.isAuthorized(exporter.address, registry.BANK_ROLE())


def test_transfer_profile_reports_activity_and_jurisdictions(registry, regulator, exporter, importer, outsider):
    assert registry.transferProfile(exporter.address, importer.address) == (True, True, b"CN", b"US")
    registry.freezeParticipant(importer.address, text_hash("r"), sender=regulator)
    assert registry.transferProfile(exporter.address, importer.address) == (True, False, b"CN", b"US")
    assert registry.transferProfile(outsider.address, exporter.address) == (False, True, b"\x00\x00", b"CN")


def test_transfer_from_profile_allows_active_spenders_only(
    platform, registry, regulator, bank_cn, exporter, importer, supplier1, outsider
):
    # An active participant, an instrument contract (registered as kind Instrument) included, may spend an
    # allowance; an unregistered spender may not.
    assert registry.transferFromProfile(supplier1.address, exporter.address, importer.address) == (
        True, True, True, b"CN", b"US"
    )
    assert registry.transferFromProfile(platform["PaymentRouter"].address, exporter.address, importer.address) == (
        True, True, True, b"CN", b"US"
    )
    assert registry.transferFromProfile(outsider.address, exporter.address, importer.address) == (
        False, True, True, b"CN", b"US"
    )
    # A frozen one, or a corporate whose KYC was revoked, may not.
    registry.freezeParticipant(supplier1.address, text_hash("r"), sender=regulator)
    assert registry.transferFromProfile(supplier1.address, exporter.address, importer.address) == (
        False, True, True, b"CN", b"US"
    )
    registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_cn)
    assert registry.transferFromProfile(exporter.address, importer.address, outsider.address) == (
        False, True, False, b"US", b"\x00\x00"
    )


def test_unknown_account_reads_as_none(registry, outsider):
    assert registry.kindOf(outsider.address) == ParticipantKind["None"]
    assert registry.jurisdictionOf(outsider.address) == b"\x00\x00"
    assert registry.identityHashOf(outsider.address) == b"\x00" * 32
    assert registry.walletsOf(outsider.address) == []
    assert registry.kycBanksOf(outsider.address) == []
    assert registry.kycAttestation(outsider.address, ZERO_ADDRESS).status == KycStatus["None"]
    assert registry.participant(outsider.address).roles == 0
    assert not registry.isActive(outsider.address)
