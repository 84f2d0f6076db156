"""KYC belongs to the bank that attested it (M5; DESIGN §1).

Each bank keeps its own attestation of a corporate's identity and changes only that one; a corporate is
KYC-valid while its latest `Approved` attestation has not expired (`Participant.kycExpiry`). The regulator
may revoke every attestation at once (`revokeKyc`); a bank may approve again after a fresh review.

In the test world bank_cn approved the Chinese corporates (exporter, supplier1) and bank_us the importer,
each for five years. Time comes from the chain: validity is tested in blocks mined at chosen times.
"""

from __future__ import annotations

from typing import Any

import ape

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import identity_hash, jurisdiction, text_hash

DAY = 24 * 3600


def only_event(receipt: Any, event_type: Any) -> dict[str, Any]:
    """The arguments of the one `event_type` log in `receipt` (fails on none or several)."""
    logs = receipt.events.filter(event_type)
    assert len(logs) == 1, f"expected one {event_type.name}, got {len(logs)}"
    return dict(logs[0].event_arguments)


def attestation(registry: Any, account: Any, bank: Any) -> tuple[int, int]:
    """`bank`'s own attestation of `account`'s identity, as (status, expiry)."""
    a = registry.kycAttestation(account.address, bank.address)
    return a.status, a.expiry


def valid_until(registry: Any, account: Any) -> int:
    return registry.participant(account.address).kycExpiry


def next_timestamp(chain: Any) -> int:
    """The timestamp the next transaction's block will carry: fixed explicitly, so both chains agree."""
    t = chain.blocks.head.timestamp + 1
    chain.pending_timestamp = t
    return t


# ───────────────────────────── Another bank adds its own ─────────────────────────────


def test_second_bank_adds_its_own_attestation_beside_the_first(registry, bank_cn, bank_us, exporter, chain):
    first = attestation(registry, exporter, bank_cn)
    expiry = chain.pending_timestamp + 30 * DAY

    receipt = registry.attestKyc(exporter.address, KycStatus.Approved, expiry, text_hash("kyc:us-review"),
                                 sender=bank_us)

    assert only_event(receipt, registry.KycAttested)["bank"] == bank_us.address
    assert attestation(registry, exporter, bank_us) == (KycStatus.Approved, expiry)
    assert attestation(registry, exporter, bank_cn) == first
    assert registry.kycBanksOf(exporter.address) == [bank_cn.address, bank_us.address]
    # An earlier expiry than bank_cn's: the exporter's validity does not change.
    assert valid_until(registry, exporter) == first[1] > expiry
    assert receipt.events.filter(registry.KycValidityChanged) == []


def test_later_approval_by_a_second_bank_extends_validity(registry, bank_cn, bank_us, exporter):
    later = valid_until(registry, exporter) + 365 * DAY

    receipt = registry.attestKyc(exporter.address, KycStatus.Approved, later, text_hash("kyc"), sender=bank_us)

    assert only_event(receipt, registry.KycValidityChanged) == {
        "identityHash": registry.identityHashOf(exporter.address), "validUntil": later,
    }
    assert valid_until(registry, exporter) == later
    assert attestation(registry, exporter, bank_cn)[0] == KycStatus.Approved


def test_M5_another_bank_cannot_shorten_an_approval_it_does_not_own(registry, usd, bank_us, exporter, importer,
                                                                    chain):
    # The attack: an approval by another bank that expires in a moment, to knock the exporter out.
    valid = valid_until(registry, exporter)
    soon = next_timestamp(chain) + 1
    registry.attestKyc(exporter.address, KycStatus.Approved, soon, text_hash("kyc:one second"), sender=bank_us)

    assert valid_until(registry, exporter) == valid
    chain.pending_timestamp = soon + 10
    usd.transfer(importer.address, 1_00, sender=exporter)  # still active once bank_us's approval lapsed
    assert registry.isActive(exporter.address)


def test_M5_another_bank_cannot_overwrite_an_approval_with_a_rejection_or_revocation(registry, usd, bank_cn, bank_us,
                                                                                   exporter, importer):
    approval = attestation(registry, exporter, bank_cn)

    registry.attestKyc(exporter.address, KycStatus.Rejected, 0, text_hash("declined"), sender=bank_us)
    registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_us)

    assert attestation(registry, exporter, bank_cn) == approval
    assert attestation(registry, exporter, bank_us) == (KycStatus.Revoked, 0)
    assert valid_until(registry, exporter) == approval[1]
    usd.transfer(importer.address, 1_00, sender=exporter)
    assert registry.isActive(exporter.address)


# ───────────────────────────── Validity: the latest unexpired approval ─────────────────────────────


def test_validity_is_the_latest_unexpired_approval(registry, usd, bank_cn, bank_us, supplier1, exporter, chain):
    ident = registry.identityHashOf(supplier1.address)
    t = next_timestamp(chain)
    # bank_cn shortens its own approval (its own to change): the validity follows it down.
    shortened = registry.attestKyc(supplier1.address, KycStatus.Approved, t + 100, text_hash("short"), sender=bank_cn)
    assert only_event(shortened, registry.KycValidityChanged) == {"identityHash": ident, "validUntil": t + 100}
    registry.attestKyc(supplier1.address, KycStatus.Approved, t + 200, text_hash("us review"), sender=bank_us)
    assert valid_until(registry, supplier1) == t + 200

    chain.pending_timestamp = t + 150  # bank_cn's approval has lapsed, bank_us's holds
    usd.transfer(exporter.address, 1_00, sender=supplier1)
    chain.pending_timestamp = t + 199
    usd.transfer(exporter.address, 1_00, sender=supplier1)

    chain.pending_timestamp = t + 200  # every approval has lapsed
    with ape.reverts(usd.SettlementTokenInactiveParty, account=supplier1.address):
        usd.transfer(exporter.address, 1_00, sender=supplier1)
    with ape.reverts(registry.ParticipantRegistryKycNotValid, account=supplier1.address):
        registry.requireActive(supplier1.address)


def test_withdrawing_the_latest_approval_falls_back_to_the_next_one(registry, bank_cn, bank_us, supplier1, chain):
    ident = registry.identityHashOf(supplier1.address)
    cn_expiry = valid_until(registry, supplier1)
    us_expiry = cn_expiry + 365 * DAY
    registry.attestKyc(supplier1.address, KycStatus.Approved, us_expiry, text_hash("kyc"), sender=bank_us)

    receipt = registry.attestKyc(supplier1.address, KycStatus.Rejected, 0, text_hash("declined"), sender=bank_us)

    assert only_event(receipt, registry.KycValidityChanged) == {"identityHash": ident, "validUntil": cn_expiry}
    assert valid_until(registry, supplier1) == cn_expiry
    assert registry.isActive(supplier1.address)


def test_withdrawing_an_approval_that_is_not_the_latest_changes_nothing(registry, bank_cn, bank_us, supplier1, chain):
    cn_expiry = valid_until(registry, supplier1)
    registry.attestKyc(supplier1.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("k"),
                       sender=bank_us)

    receipt = registry.attestKyc(supplier1.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_us)

    assert receipt.events.filter(registry.KycValidityChanged) == []
    assert valid_until(registry, supplier1) == cn_expiry


def test_corporate_is_invalid_once_every_bank_has_withdrawn(registry, bank_cn, bank_us, supplier1, chain):
    registry.attestKyc(supplier1.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("k"),
                       sender=bank_us)

    registry.attestKyc(supplier1.address, KycStatus.Revoked, 0, text_hash("cn"), sender=bank_cn)
    assert registry.isActive(supplier1.address)
    registry.attestKyc(supplier1.address, KycStatus.Rejected, 0, text_hash("us"), sender=bank_us)

    assert valid_until(registry, supplier1) == 0
    assert not registry.isActive(supplier1.address)


# ───────────────────────────── The regulator revokes ─────────────────────────────


def test_regulator_revokes_every_banks_attestation(registry, usd, regulator, bank_cn, bank_us, exporter, importer,
                                                   chain):
    registry.attestKyc(exporter.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("k"),
                       sender=bank_us)
    reason = text_hash("SANCTIONS-LIST-2026-12")

    receipt = registry.revokeKyc(exporter.address, reason, sender=regulator)

    assert only_event(receipt, registry.KycRevokedByRegulator) == {
        "account": exporter.address, "regulator": regulator.address, "reasonCode": reason,
    }
    assert only_event(receipt, registry.KycValidityChanged) == {
        "identityHash": registry.identityHashOf(exporter.address), "validUntil": 0,
    }
    assert attestation(registry, exporter, bank_cn) == (KycStatus.Revoked, 0)
    assert attestation(registry, exporter, bank_us) == (KycStatus.Revoked, 0)
    assert valid_until(registry, exporter) == 0
    assert not registry.isActive(exporter.address)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(importer.address, 1_00, sender=exporter)


def test_revoke_kyc_fails_if_not_regulator(registry, operator, bank_cn, exporter):
    for caller in (bank_cn, operator, exporter):
        with ape.reverts(registry.AccessControlUnauthorizedAccount, account=caller.address,
                         neededRole=registry.REGULATOR_ROLE()):
            registry.revokeKyc(exporter.address, text_hash("r"), sender=caller)
    assert registry.isActive(exporter.address)


def test_revoke_kyc_fails_if_participant_unknown(registry, regulator, outsider):
    with ape.reverts(registry.ParticipantRegistryUnknownParticipant, account=outsider.address):
        registry.revokeKyc(outsider.address, text_hash("r"), sender=regulator)


def test_bank_approves_again_after_the_regulator_revoked(registry, usd, regulator, bank_cn, bank_us, exporter,
                                                         importer, chain):
    registry.attestKyc(exporter.address, KycStatus.Approved, chain.pending_timestamp + DAY, text_hash("k"),
                       sender=bank_us)
    registry.revokeKyc(exporter.address, text_hash("REVIEW"), sender=regulator)
    expiry = chain.pending_timestamp + 365 * DAY

    receipt = registry.attestKyc(exporter.address, KycStatus.Approved, expiry, text_hash("kyc:after review"),
                                 sender=bank_cn)

    assert only_event(receipt, registry.KycValidityChanged)["validUntil"] == expiry
    assert attestation(registry, exporter, bank_cn) == (KycStatus.Approved, expiry)
    assert attestation(registry, exporter, bank_us) == (KycStatus.Revoked, 0)  # bank_us's stays revoked
    assert registry.kycBanksOf(exporter.address) == [bank_cn.address, bank_us.address]
    usd.transfer(importer.address, 1_00, sender=exporter)
    assert registry.isActive(exporter.address)


# ───────────────────────────── Limits ─────────────────────────────


def test_at_most_sixteen_banks_attest_one_identity(registry, operator, bank_cn, bank_us, supplier2, new_wallet,
                                                   chain):
    expiry = chain.pending_timestamp + DAY
    for i in range(14):  # bank_cn attested supplier2 already; bank_us and 14 more make 16
        bank = new_wallet()
        registry.registerParticipant(bank.address, ParticipantKind.Bank, jurisdiction("SG"),
                                     identity_hash(f"LEI-BANK-{i}"),
                                     sender=operator)
        registry.attestKyc(supplier2.address, KycStatus.Approved, expiry, text_hash(f"kyc:{i}"), sender=bank)
    registry.attestKyc(supplier2.address, KycStatus.Approved, expiry, text_hash("kyc:us"), sender=bank_us)
    assert len(registry.kycBanksOf(supplier2.address)) == 16

    seventeenth = new_wallet()
    registry.registerParticipant(seventeenth.address, ParticipantKind.Bank, jurisdiction("SG"),
                                 identity_hash("LEI-BANK-17"),
                                 sender=operator)
    with ape.reverts(registry.ParticipantRegistryTooManyEntries, account=supplier2.address, max=16):
        registry.attestKyc(supplier2.address, KycStatus.Approved, expiry, text_hash("kyc:17"), sender=seventeenth)
    # A bank that attested already still updates its own attestation.
    registry.attestKyc(supplier2.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_cn)
    assert attestation(registry, supplier2, bank_cn) == (KycStatus.Revoked, 0)
