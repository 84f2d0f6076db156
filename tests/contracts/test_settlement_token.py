"""SettlementToken: tokenized bank deposits, transfers only between active participants (DESIGN §2).

Minting and burning by authorized banks (the registry's one check: `BANK_ROLE`, active), the transfer rule
in `_update` (inactive, frozen and unknown parties refused, as sender, as receiver and as the spender of an
allowance, with nothing moved), payment transfers with an ISO 20022 purpose code and reference, and the
supervisory events: `CrossBorderTransfer` between jurisdictions and `LargeValueReported` at or above the
threshold an authorized regulator sets. The registry's errors reach the caller through the token, so they
are checked with `reverts_with`.

The rules forge fuzzes are checked there only (`tests/foundry/SettlementToken.t.sol`): who may mint (any
caller without `BANK_ROLE`, a frozen bank, a revoked one), a burn's events and supply, transfers over the
balance, by strangers or to them, to or from a frozen party, by an inactive spender, a payment under an
allowance and a cross-border payment with their exact events, and large-value reports at and one below the
threshold. A KYC lapse through the token is fuzzed in `ParticipantRegistry.t.sol`.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from _reverts import reverts_with

from app.core.enums import KycStatus, ParticipantKind
from scripts._common import INITIAL_BALANCE, INSTRUMENT_CONTRACTS, identity_hash, jurisdiction, purpose_code, text_hash

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
NO_PURPOSE = b"\x00" * 4
NO_REFERENCE = b"\x00" * 32
GDDS = purpose_code("GDDS")  # ISO 20022: purchase or sale of goods
SCVE = purpose_code("SCVE")  # ISO 20022: purchase or sale of services
INVOICE_REF = text_hash("INV-2026-0001")


def events(receipt: Any, event_type: Any) -> list[dict[str, Any]]:
    return [dict(log.event_arguments) for log in receipt.events.filter(event_type)]


def only_event(receipt: Any, event_type: Any) -> dict[str, Any]:
    """The arguments of the one `event_type` log in `receipt` (fails on none or several)."""
    found = events(receipt, event_type)
    assert len(found) == 1, f"expected one {event_type.name}, got {len(found)}"
    return found[0]


# ───────────────────────────── Metadata ─────────────────────────────


@pytest.mark.parametrize("code", ["USD", "CNY", "EUR"])
def test_token_describes_its_currency(platform, registry, code):
    token = platform[f"SettlementToken{code}"]
    assert token.currency() == code.encode()
    assert token.symbol() == code
    assert token.name() == f"tradefin {code} deposit"
    assert token.decimals() == 2
    assert token.registry() == registry.address
    assert token.largeValueThreshold() == 0


def test_token_with_zero_decimals_for_jpy(project, platform, operator, registry):
    forwarder = platform["Forwarder"]
    jpy = operator.deploy(project.SettlementToken, "tradefin JPY deposit", b"JPY", 0, registry.address,
                          forwarder.address)
    assert (jpy.decimals(), jpy.symbol(), jpy.currency()) == (0, "JPY", b"JPY")
    assert jpy.isTrustedForwarder(forwarder.address)


# ───────────────────────────── Mint and burn ─────────────────────────────


def test_bank_mints_against_deposit(usd, bank_us, importer):
    supply = usd.totalSupply()
    reference = text_hash("DEP-US-0001")

    receipt = usd.mint(importer.address, 2_500_00, reference, sender=bank_us)

    assert only_event(receipt, usd.DepositMinted) == {
        "bank": bank_us.address, "to": importer.address, "amount": 2_500_00, "paymentReference": reference,
    }
    assert only_event(receipt, usd.Transfer) == {"from": ZERO_ADDRESS, "to": importer.address, "value": 2_500_00}
    assert events(receipt, usd.CrossBorderTransfer) == []
    assert usd.balanceOf(importer.address) == INITIAL_BALANCE + 2_500_00
    assert usd.totalSupply() == supply + 2_500_00


def test_corporate_granted_bank_role_mints(usd, registry, operator, exporter, importer):
    registry.grantRole(registry.BANK_ROLE(), exporter.address, sender=operator)
    receipt = usd.mint(importer.address, 1_00, text_hash("DEP"), sender=exporter)
    assert only_event(receipt, usd.DepositMinted)["bank"] == exporter.address


def test_mint_fails_if_amount_zero(usd, bank_us, importer):
    with ape.reverts(usd.SettlementTokenZeroAmount):
        usd.mint(importer.address, 0, text_hash("DEP"), sender=bank_us)


def test_mint_fails_if_recipient_not_participant(usd, bank_us, outsider):
    with ape.reverts(usd.SettlementTokenInactiveParty, account=outsider.address):
        usd.mint(outsider.address, 1_00, text_hash("DEP"), sender=bank_us)


def test_mint_fails_if_recipient_frozen(usd, registry, regulator, bank_us, importer):
    registry.freezeParticipant(importer.address, text_hash("AML"), sender=regulator)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=importer.address):
        usd.mint(importer.address, 1_00, text_hash("DEP"), sender=bank_us)


def test_mint_fails_if_recipient_is_zero_address(usd, bank_us):
    with ape.reverts(usd.ERC20InvalidReceiver, receiver=ZERO_ADDRESS):
        usd.mint(ZERO_ADDRESS, 1_00, text_hash("DEP"), sender=bank_us)


def test_burn_fails_if_caller_not_bank(usd, registry, exporter):
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=exporter.address,
                      neededRole=registry.BANK_ROLE()):
        usd.burn(1_00, text_hash("WDR"), sender=exporter)
    assert usd.balanceOf(exporter.address) == INITIAL_BALANCE


def test_burn_fails_if_bank_frozen(usd, registry, regulator, bank_us):
    registry.freezeParticipant(bank_us.address, text_hash("licence suspended"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=bank_us.address):
        usd.burn(1_00, text_hash("WDR"), sender=bank_us)
    assert usd.balanceOf(bank_us.address) == INITIAL_BALANCE


def test_burn_fails_if_bank_role_revoked(usd, registry, operator, bank_us):
    registry.revokeRole(registry.BANK_ROLE(), bank_us.address, sender=operator)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.BANK_ROLE()):
        usd.burn(1_00, text_hash("WDR"), sender=bank_us)
    assert usd.balanceOf(bank_us.address) == INITIAL_BALANCE


def test_burn_fails_if_amount_zero(usd, bank_us):
    with ape.reverts(usd.SettlementTokenZeroAmount):
        usd.burn(0, text_hash("WDR"), sender=bank_us)


def test_burn_fails_if_over_balance(usd, bank_us):
    with ape.reverts(
        usd.ERC20InsufficientBalance, sender=bank_us.address, balance=INITIAL_BALANCE, needed=INITIAL_BALANCE + 1
    ):
        usd.burn(INITIAL_BALANCE + 1, text_hash("WDR"), sender=bank_us)


# ───────────────────────────── Transfers between active parties ─────────────────────────────


def test_domestic_transfer_moves_balance_and_reports_nothing(usd, exporter, supplier1):
    receipt = usd.transfer(supplier1.address, 123_45, sender=exporter)

    assert only_event(receipt, usd.Transfer) == {"from": exporter.address, "to": supplier1.address, "value": 123_45}
    assert events(receipt, usd.CrossBorderTransfer) == []
    assert events(receipt, usd.LargeValueReported) == []
    assert events(receipt, usd.PaymentTransfer) == []
    assert usd.balanceOf(exporter.address) == INITIAL_BALANCE - 123_45
    assert usd.balanceOf(supplier1.address) == INITIAL_BALANCE + 123_45


def test_cross_border_plain_transfer_reports_jurisdictions_without_purpose(usd, exporter, importer):
    receipt = usd.transfer(importer.address, 500_00, sender=exporter)

    assert only_event(receipt, usd.CrossBorderTransfer) == {
        "from": exporter.address,
        "to": importer.address,
        "fromJurisdiction": b"CN",
        "toJurisdiction": b"US",
        "currency": b"USD",
        "amount": 500_00,
        "purposeCode": NO_PURPOSE,
        "paymentReference": NO_REFERENCE,
    }
    assert events(receipt, usd.PaymentTransfer) == []


def test_cross_border_event_names_the_token_currency(cny, eur, supplier3, exporter2, supplier1):
    cny_receipt = cny.transferWithPurpose(supplier1.address, 10_00, SCVE, INVOICE_REF, sender=supplier3)
    eur_receipt = eur.transfer(supplier3.address, 20_00, sender=exporter2)

    cny_event = only_event(cny_receipt, cny.CrossBorderTransfer)
    eur_event = only_event(eur_receipt, eur.CrossBorderTransfer)
    assert (cny_event["fromJurisdiction"], cny_event["toJurisdiction"], cny_event["currency"]) == (b"VN", b"CN", b"CNY")
    assert cny_event["purposeCode"] == b"SCVE"
    assert (eur_event["fromJurisdiction"], eur_event["toJurisdiction"], eur_event["currency"]) == (b"DE", b"VN", b"EUR")


def test_domestic_payment_emits_payment_transfer_only(usd, exporter, supplier1):
    receipt = usd.transferWithPurpose(supplier1.address, 50_00, GDDS, INVOICE_REF, sender=exporter)

    assert only_event(receipt, usd.PaymentTransfer) == {
        "from": exporter.address, "to": supplier1.address, "amount": 50_00, "purposeCode": b"GDDS",
        "paymentReference": INVOICE_REF,
    }
    assert events(receipt, usd.CrossBorderTransfer) == []


def test_payment_without_purpose_or_reference_still_emits_payment_transfer(usd, exporter, supplier1):
    receipt = usd.transferWithPurpose(supplier1.address, 1_00, NO_PURPOSE, NO_REFERENCE, sender=exporter)
    assert only_event(receipt, usd.PaymentTransfer)["amount"] == 1_00


def test_payment_fails_if_recipient_is_zero_address(usd, exporter):
    with ape.reverts(usd.ERC20InvalidReceiver, receiver=ZERO_ADDRESS):
        usd.transferWithPurpose(ZERO_ADDRESS, 1_00, GDDS, INVOICE_REF, sender=exporter)


# ───────────────────────────── Payments under an allowance ─────────────────────────────


def test_transfer_from_with_purpose_fails_without_enough_allowance(usd, importer, exporter, supplier1):
    usd.approve(supplier1.address, 99_99, sender=importer)
    with ape.reverts(usd.ERC20InsufficientAllowance, spender=supplier1.address, allowance=99_99, needed=100_00):
        usd.transferFromWithPurpose(importer.address, exporter.address, 100_00, GDDS, INVOICE_REF, sender=supplier1)


def test_transfer_from_with_purpose_fails_if_sender_is_zero_address(usd, exporter, supplier1):
    with ape.reverts(usd.ERC20InvalidSender, sender=ZERO_ADDRESS):
        usd.transferFromWithPurpose(ZERO_ADDRESS, exporter.address, 0, GDDS, INVOICE_REF, sender=supplier1)


def test_transfer_from_with_purpose_fails_if_recipient_is_zero_address(usd, importer, supplier1):
    usd.approve(supplier1.address, 1_00, sender=importer)
    with ape.reverts(usd.ERC20InvalidReceiver, receiver=ZERO_ADDRESS):
        usd.transferFromWithPurpose(importer.address, ZERO_ADDRESS, 1_00, GDDS, INVOICE_REF, sender=supplier1)


def test_split_payment_pays_both_payees_under_one_allowance_spend(usd, importer, exporter, bank_us, supplier1):
    """`transferFromWithPurposeSplit`: the buyer's payment of an invoice shared by its financier and its owner."""
    usd.approve(supplier1.address, 10_000_00, sender=importer)

    receipt = usd.transferFromWithPurposeSplit(
        importer.address, bank_us.address, 3_000_00, exporter.address, 1_000_00, GDDS, INVOICE_REF, sender=supplier1
    )

    assert events(receipt, usd.PaymentTransfer) == [
        {"from": importer.address, "to": bank_us.address, "amount": 3_000_00, "purposeCode": b"GDDS",
         "paymentReference": INVOICE_REF},
        {"from": importer.address, "to": exporter.address, "amount": 1_000_00, "purposeCode": b"GDDS",
         "paymentReference": INVOICE_REF},
    ]
    # Each leg is reported on its own: US → US is domestic, US → CN crosses a border.
    [cross] = events(receipt, usd.CrossBorderTransfer)
    assert (cross["to"], cross["amount"]) == (exporter.address, 1_000_00)
    assert usd.allowance(importer.address, supplier1.address) == 6_000_00
    assert usd.balanceOf(importer.address) == INITIAL_BALANCE - 4_000_00
    assert usd.balanceOf(bank_us.address) == INITIAL_BALANCE + 3_000_00
    assert usd.balanceOf(exporter.address) == INITIAL_BALANCE + 1_000_00


@pytest.mark.parametrize("inactive", ["spender", "from", "to", "rest_to"])
def test_split_payment_moves_nothing_when_any_party_is_inactive(usd, registry, regulator, importer, exporter,
                                                                bank_us, supplier1, inactive):
    usd.approve(supplier1.address, 10_000_00, sender=importer)
    party = {"spender": supplier1, "from": importer, "to": bank_us, "rest_to": exporter}[inactive]
    registry.freezeParticipant(party.address, text_hash("AML"), sender=regulator)

    with ape.reverts(usd.SettlementTokenInactiveParty, account=party.address):
        usd.transferFromWithPurposeSplit(importer.address, bank_us.address, 3_000_00, exporter.address, 1_000_00,
                                         GDDS, INVOICE_REF, sender=supplier1)
    assert usd.allowance(importer.address, supplier1.address) == 10_000_00
    assert usd.balanceOf(importer.address) == INITIAL_BALANCE


def test_split_payment_refuses_a_zero_payee_and_needs_the_allowance_for_both(usd, importer, exporter, bank_us,
                                                                           supplier1):
    usd.approve(supplier1.address, 3_999_99, sender=importer)
    with ape.reverts(usd.ERC20InvalidReceiver, receiver=ZERO_ADDRESS):
        usd.transferFromWithPurposeSplit(importer.address, bank_us.address, 3_000_00, ZERO_ADDRESS, 1_000_00,
                                         GDDS, INVOICE_REF, sender=supplier1)
    with ape.reverts(usd.ERC20InsufficientAllowance, spender=supplier1.address, allowance=3_999_99,
                     needed=4_000_00):
        usd.transferFromWithPurposeSplit(importer.address, bank_us.address, 3_000_00, exporter.address, 1_000_00,
                                         GDDS, INVOICE_REF, sender=supplier1)


def test_plain_transfer_from_the_zero_address_fails_as_approver(usd, exporter, supplier1):
    # OpenZeppelin spends the (zero) allowance first, so the zero owner is refused as an approver.
    with ape.reverts(usd.ERC20InvalidApprover, approver=ZERO_ADDRESS):
        usd.transferFrom(ZERO_ADDRESS, exporter.address, 0, sender=supplier1)


def test_plain_transfer_from_applies_the_same_rules(usd, registry, regulator, importer, exporter, supplier1,
                                                    outsider):
    usd.approve(supplier1.address, 2_00, sender=importer)
    receipt = usd.transferFrom(importer.address, exporter.address, 1_00, sender=supplier1)
    assert only_event(receipt, usd.CrossBorderTransfer)["amount"] == 1_00

    registry.freezeParticipant(exporter.address, text_hash("AML"), sender=regulator)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transferFrom(importer.address, exporter.address, 1_00, sender=supplier1)
    usd.approve(outsider.address, 2_00, sender=importer)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=outsider.address):
        usd.transferFrom(importer.address, supplier1.address, 1_00, sender=outsider)


def test_approve_records_allowance_without_party_checks(usd, registry, regulator, importer, outsider):
    registry.freezeParticipant(importer.address, text_hash("AML"), sender=regulator)

    receipt = usd.approve(outsider.address, 5_00, sender=importer)

    assert only_event(receipt, usd.Approval) == {"owner": importer.address, "spender": outsider.address, "value": 5_00}
    assert usd.allowance(importer.address, outsider.address) == 5_00


def test_approve_fails_if_spender_is_zero_address(usd, importer):
    with ape.reverts(usd.ERC20InvalidSpender, spender=ZERO_ADDRESS):
        usd.approve(ZERO_ADDRESS, 1_00, sender=importer)


# ───────────────────────────── Inactive and frozen parties ─────────────────────────────


def test_frozen_party_cannot_be_debited_under_an_allowance(usd, registry, regulator, exporter, importer,
                                                           supplier1):
    usd.approve(supplier1.address, 1_000_00, sender=exporter)
    registry.freezeParticipant(exporter.address, text_hash("AML-ALERT"), sender=regulator)

    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transferFromWithPurpose(exporter.address, importer.address, 1_00, GDDS, INVOICE_REF, sender=supplier1)
    assert usd.balanceOf(exporter.address) == INITIAL_BALANCE


def test_unfrozen_party_transfers_again(usd, registry, regulator, exporter, importer):
    registry.freezeParticipant(exporter.address, text_hash("AML-ALERT"), sender=regulator)
    registry.unfreezeParticipant(exporter.address, text_hash("AML-CLEARED"), sender=regulator)

    usd.transfer(importer.address, 1_00, sender=exporter)
    assert usd.balanceOf(exporter.address) == INITIAL_BALANCE - 1_00


def test_transfer_fails_if_sender_kyc_revoked(usd, registry, bank_cn, exporter, importer):
    registry.attestKyc(exporter.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_cn)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=exporter.address):
        usd.transfer(importer.address, 1_00, sender=exporter)


# ───────────────────────────── Spenders under an allowance ─────────────────────────────


def test_kyc_lapsed_corporate_spender_cannot_spend_its_allowance(chain, usd, registry, bank_cn, exporter, importer,
                                                                 supplier1):
    usd.approve(supplier1.address, 10_00, sender=exporter)
    registry.attestKyc(supplier1.address, KycStatus.Revoked, 0, text_hash("revoked"), sender=bank_cn)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=supplier1.address):
        usd.transferFromWithPurpose(exporter.address, importer.address, 1_00, GDDS, INVOICE_REF, sender=supplier1)

    expiry = chain.pending_timestamp + 60
    registry.attestKyc(supplier1.address, KycStatus.Approved, expiry, text_hash("short kyc"), sender=bank_cn)
    usd.transferFrom(exporter.address, importer.address, 1_00, sender=supplier1)  # active until expiry
    chain.pending_timestamp = expiry
    with ape.reverts(usd.SettlementTokenInactiveParty, account=supplier1.address):
        usd.transferFrom(exporter.address, importer.address, 1_00, sender=supplier1)


def test_unfrozen_spender_spends_again(usd, registry, regulator, exporter, importer, supplier1):
    usd.approve(supplier1.address, 10_00, sender=exporter)
    registry.freezeParticipant(supplier1.address, text_hash("AML"), sender=regulator)
    registry.unfreezeParticipant(supplier1.address, text_hash("cleared"), sender=regulator)
    before = usd.balanceOf(importer.address)

    receipt = usd.transferFrom(exporter.address, importer.address, 4_00, sender=supplier1)

    assert usd.balanceOf(importer.address) - before == 4_00
    assert usd.allowance(exporter.address, supplier1.address) == 6_00
    assert only_event(receipt, usd.CrossBorderTransfer)["amount"] == 4_00


def test_spender_whose_kind_role_was_revoked_is_refused(usd, registry, operator, exporter, importer, supplier1):
    usd.approve(supplier1.address, 10_00, sender=exporter)
    registry.revokeRole(registry.CORPORATE_ROLE(), supplier1.address, sender=operator)

    with ape.reverts(usd.SettlementTokenInactiveParty, account=supplier1.address):
        usd.transferFrom(exporter.address, importer.address, 1_00, sender=supplier1)
    assert usd.allowance(exporter.address, supplier1.address) == 10_00


def test_instrument_participant_spends_allowances_until_its_role_is_revoked(usd, registry, operator, exporter,
                                                                           importer, new_wallet):
    # Instrument contracts spend allowances as registered participants of kind Instrument; an account
    # registered the same way stands in for one here.
    instrument = new_wallet()
    registry.registerParticipant(instrument.address, ParticipantKind.Instrument, jurisdiction("SG"),
                                 identity_hash(f"instrument:test:{instrument.address}"), sender=operator)
    usd.approve(instrument.address, 10_00, sender=exporter)
    before = usd.balanceOf(importer.address)

    receipt = usd.transferFromWithPurpose(exporter.address, importer.address, 3_00, GDDS, INVOICE_REF,
                                          sender=instrument)

    assert usd.balanceOf(importer.address) - before == 3_00
    assert only_event(receipt, usd.PaymentTransfer) == {
        "from": exporter.address, "to": importer.address, "amount": 3_00, "purposeCode": GDDS,
        "paymentReference": INVOICE_REF,
    }
    usd.transferFrom(exporter.address, importer.address, 2_00, sender=instrument)
    assert usd.allowance(exporter.address, instrument.address) == 5_00

    registry.revokeRole(registry.INSTRUMENT_ROLE(), instrument.address, sender=operator)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=instrument.address):
        usd.transferFrom(exporter.address, importer.address, 1_00, sender=instrument)


def test_deployed_instrument_contracts_are_active_spenders(platform, registry):
    assert len(INSTRUMENT_CONTRACTS) == 5
    for name in INSTRUMENT_CONTRACTS:
        assert registry.isAuthorized(platform[name].address, registry.INSTRUMENT_ROLE()), name


def test_regulator_freezing_an_instrument_contract_stops_its_payments(platform, usd, registry, regulator, importer,
                                                                     exporter):
    router = platform["PaymentRouter"]
    usd.approve(router.address, 10_00, sender=importer)
    registry.freezeParticipant(router.address, text_hash("INCIDENT-7"), sender=regulator)

    with reverts_with(usd.SettlementTokenInactiveParty, account=router.address):
        router.pay(usd.address, exporter.address, 1_00, GDDS, INVOICE_REF, sender=importer)

    registry.unfreezeParticipant(router.address, text_hash("INCIDENT-7-CLOSED"), sender=regulator)
    before = usd.balanceOf(exporter.address)
    router.pay(usd.address, exporter.address, 1_00, GDDS, INVOICE_REF, sender=importer)
    assert usd.balanceOf(exporter.address) - before == 1_00


def test_spender_moving_money_to_an_inactive_party_is_refused_for_that_party(usd, registry, regulator, exporter,
                                                                            importer, supplier1):
    usd.approve(supplier1.address, 10_00, sender=exporter)
    registry.freezeParticipant(importer.address, text_hash("AML"), sender=regulator)
    with ape.reverts(usd.SettlementTokenInactiveParty, account=importer.address):
        usd.transferFrom(exporter.address, importer.address, 1_00, sender=supplier1)


def test_transfer_from_to_the_zero_address_fails_as_receiver(usd, exporter, supplier1):
    usd.approve(supplier1.address, 10_00, sender=exporter)
    with ape.reverts(usd.ERC20InvalidReceiver, receiver=ZERO_ADDRESS):
        usd.transferFrom(exporter.address, ZERO_ADDRESS, 1_00, sender=supplier1)


def test_transfer_from_fails_over_allowance(usd, exporter, importer, supplier1):
    usd.approve(supplier1.address, 1_00, sender=exporter)
    with ape.reverts(usd.ERC20InsufficientAllowance, spender=supplier1.address, allowance=1_00, needed=2_00):
        usd.transferFrom(exporter.address, importer.address, 2_00, sender=supplier1)


# ───────────────────────────── Large-value reporting ─────────────────────────────


def test_regulator_sets_large_value_threshold(usd, regulator):
    receipt = usd.setLargeValueThreshold(1_000_000_00, sender=regulator)

    assert only_event(receipt, usd.LargeValueThresholdSet) == {
        "regulator": regulator.address, "threshold": 1_000_000_00,
    }
    assert usd.largeValueThreshold() == 1_000_000_00


def test_set_threshold_fails_if_not_regulator(usd, registry, bank_cn, operator):
    for caller in (bank_cn, operator):
        with reverts_with(registry.AccessControlUnauthorizedAccount, account=caller.address,
                          neededRole=registry.REGULATOR_ROLE()):
            usd.setLargeValueThreshold(1, sender=caller)
    assert usd.largeValueThreshold() == 0


def test_set_threshold_fails_if_regulator_role_revoked(usd, registry, operator, regulator):
    usd.setLargeValueThreshold(1_000_00, sender=regulator)
    registry.revokeRole(registry.REGULATOR_ROLE(), regulator.address, sender=operator)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=regulator.address,
                      neededRole=registry.REGULATOR_ROLE()):
        usd.setLargeValueThreshold(0, sender=regulator)
    assert usd.largeValueThreshold() == 1_000_00


def test_regulator_cannot_be_frozen_so_it_keeps_setting_thresholds(usd, registry, regulator):
    # The registry refuses to freeze a regulator (it could lock supervision for good); the operator revokes
    # a regulator's role instead (see test_set_threshold_fails_if_regulator_role_revoked).
    with ape.reverts(registry.ParticipantRegistryCannotFreezeRegulator, account=regulator.address):
        registry.freezeParticipant(regulator.address, text_hash("self"), sender=regulator)
    usd.setLargeValueThreshold(1, sender=regulator)
    assert usd.largeValueThreshold() == 1


def test_domestic_plain_transfer_above_threshold_is_reported(usd, regulator, exporter, supplier1):
    usd.setLargeValueThreshold(10_000_00, sender=regulator)

    receipt = usd.transfer(supplier1.address, 10_000_01, sender=exporter)

    assert only_event(receipt, usd.LargeValueReported) == {
        "from": exporter.address,
        "to": supplier1.address,
        "currency": b"USD",
        "amount": 10_000_01,
        "threshold": 10_000_00,
        "purposeCode": NO_PURPOSE,
        "paymentReference": NO_REFERENCE,
    }
    assert events(receipt, usd.CrossBorderTransfer) == []


def test_threshold_is_per_currency(usd, cny, regulator, importer, exporter):
    usd.setLargeValueThreshold(1_00, sender=regulator)

    receipt = cny.transfer(exporter.address, 1_000_000_00, sender=importer)

    assert events(receipt, cny.LargeValueReported) == []
    assert cny.largeValueThreshold() == 0


def test_zero_threshold_disables_reporting(usd, regulator, importer, exporter):
    usd.setLargeValueThreshold(1_00, sender=regulator)
    usd.setLargeValueThreshold(0, sender=regulator)

    receipt = usd.transfer(exporter.address, 1_000_000_00, sender=importer)

    assert events(receipt, usd.LargeValueReported) == []


def test_mint_and_burn_are_not_reported_as_large_value(usd, regulator, bank_us, importer):
    usd.setLargeValueThreshold(1_00, sender=regulator)

    minted = usd.mint(importer.address, 5_00, text_hash("DEP"), sender=bank_us)
    burned = usd.burn(5_00, text_hash("WDR"), sender=bank_us)

    assert events(minted, usd.LargeValueReported) == []
    assert events(burned, usd.LargeValueReported) == []
