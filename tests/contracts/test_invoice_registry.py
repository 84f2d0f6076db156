"""InvoiceRegistry (DESIGN §4): registration once per legal invoice under one canonical invoice number,
confirmation, customs, cancellation, payments routed through liens, derived default, assignment of the token.

Liens are exercised here with `LienInstrumentDouble` (receivables_helpers): a conforming instrument (ERC-165
payment hook, `Instrument` participant, registered by the operator) that forwards lien calls and answers the
hook with what the test says its financier is owed."""

from __future__ import annotations

import ape
import pytest
from _reverts import reverts_with
from eth_utils import keccak
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from receivables_helpers import (
    DAY,
    ZERO_ADDRESS,
    advance_to,
    confirmed_invoice,
    deploy_lien_double,
    document_hash,
    invoice_number,
    now,
    register_invoice,
    states_bitmap,
)

from app.core.enums import InvoiceState, KycStatus, ParticipantKind
from scripts._common import INVOICE_GRACE_PERIOD, identity_hash, jurisdiction, text_hash

FACE = 125_000_00  # USD 125,000.00
EXPORTER_ID = identity_hash("USCC-91310000EXPORTER")
IMPORTER_ID = identity_hash("LEI-IMPORTER-US-0001")


@pytest.fixture(scope="module", autouse=True)
def invoices(platform, operator, regulator, bank_cn, bank_us, exporter, importer, attester, supplier1, supplier2,
             exporter2, outsider):
    """The registry; every role is resolved here, before Ape's per-test snapshots start."""
    return platform["InvoiceRegistry"]


@pytest.fixture(scope="module", autouse=True)
def lien_instrument(invoices, registry, operator):
    """A conforming lien instrument registered by the operator (deployed before the per-test snapshots)."""
    return deploy_lien_double(operator, registry, invoices)


@pytest.fixture(scope="module", autouse=True)
def other_instrument(invoices, registry, operator):
    """A second registered lien instrument, which holds no lien unless a test gives it one."""
    return deploy_lien_double(operator, registry, invoices)


@pytest.fixture(scope="module", autouse=True)
def _buyers_approve_the_registry(invoices, usd, importer, exporter2):
    for buyer in (importer, exporter2):
        usd.approve(invoices.address, 2**255, sender=buyer)


@pytest.fixture
def carrier(registry, operator, outsider):
    """An attester that is not a customs authority (no `CUSTOMS_ROLE`), e.g. a carrier."""
    registry.registerParticipant(outsider.address, ParticipantKind.Attester, jurisdiction("CN"),
                                 identity_hash("CARRIER-1"),
                                 sender=operator)
    assert not registry.hasRole(registry.CUSTOMS_ROLE(), outsider.address)
    return outsider


def _link_wallet(registry, operator, wallet, existing) -> None:
    """`wallet` becomes a further wallet of the legal identity of `existing` (the operator links it)."""
    registry.linkWallet(wallet.address, existing.address, sender=operator)


# ───────────────────────────── Registration ─────────────────────────────

def test_register_mints_the_invoice_to_the_seller_with_the_duplicate_key_as_id(chain, invoices, exporter,
                                                                                importer, usd):
    due = now(chain) + 90 * DAY
    receipt = invoices.register(importer.address, usd.address, invoice_number("INV-1"), FACE, now(chain), due,
                                document_hash("INV-1"), sender=exporter)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    expected_key = keccak(EXPORTER_ID + IMPORTER_ID + invoice_number("INV-1"))
    assert event.invoiceId == int.from_bytes(expected_key, "big")
    assert invoices.invoiceKey(exporter.address, importer.address, invoice_number("INV-1")) == expected_key
    assert (event.invoiceNumber, event.documentHash) == (invoice_number("INV-1"), document_hash("INV-1"))
    assert invoices.ownerOf(event.invoiceId) == exporter.address
    view = invoices.invoice(event.invoiceId)
    assert (view.seller, view.buyer, view.currency) == (exporter.address, importer.address, usd.address)
    assert (view.faceAmount, view.paidAmount, view.dueDate, view.state) == (FACE, 0, due, InvoiceState.Registered)
    assert view.lienFinancier == ZERO_ADDRESS


def test_register_fails_for_the_same_invoice_twice(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-2", FACE)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-2", FACE)


def test_register_fails_from_a_second_wallet_of_the_same_legal_seller(chain, invoices, registry, operator,
                                                                       exporter, importer, usd, outsider):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-3", FACE)
    _link_wallet(registry, operator, outsider, exporter)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        register_invoice(chain, invoices, outsider, importer, usd, "INV-3", FACE)


def test_register_fails_when_the_same_invoice_is_presented_again_for_a_second_bank(chain, invoices, exporter,
                                                                                    importer, usd, eur):
    """Whatever else differs (amount, currency, document sent to another bank), the raw invoice's key is
    taken."""
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-4", FACE)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=invoice_id):
        invoices.register(importer.address, eur.address, invoice_number("INV-4"), FACE - 1, now(chain),
                          now(chain) + 30 * DAY, document_hash("INV-4 for bank_us"), sender=exporter)


def test_register_accepts_the_same_number_for_another_buyer(chain, invoices, exporter, importer, exporter2, usd):
    first = register_invoice(chain, invoices, exporter, importer, usd, "INV-5", FACE)
    second = register_invoice(chain, invoices, exporter, exporter2, usd, "INV-5", FACE)
    assert first != second


def test_register_fails_if_buyer_is_not_a_participant(chain, invoices, registry, exporter, outsider, usd):
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=outsider.address,
                      neededRole=registry.CORPORATE_ROLE()):
        register_invoice(chain, invoices, exporter, outsider, usd, "INV-6", FACE)


def test_register_fails_if_seller_and_buyer_are_one_legal_identity(chain, invoices, registry, operator, exporter,
                                                                    outsider, usd):
    _link_wallet(registry, operator, outsider, exporter)
    with ape.reverts(invoices.InvoiceRegistrySameParty, identityHash=EXPORTER_ID):
        register_invoice(chain, invoices, exporter, outsider, usd, "INV-7", FACE)


def test_register_fails_for_an_unaccepted_currency(chain, invoices, operator, exporter, importer, usd):
    invoices.setCurrency(usd.address, False, sender=operator)
    with ape.reverts(invoices.InvoiceRegistryUnsupportedCurrency, token=usd.address):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-8", FACE)


@pytest.mark.parametrize("face", [0, 2**48])
def test_register_fails_for_a_face_amount_out_of_range(chain, invoices, exporter, importer, usd, face):
    with ape.reverts(invoices.InvoiceRegistryInvalidAmount, amount=face):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-9", face)


def test_register_fails_if_due_date_is_not_in_the_future(chain, invoices, exporter, importer, usd):
    with ape.reverts(invoices.InvoiceRegistryInvalidDueDate):
        invoices.register(importer.address, usd.address, invoice_number("INV-10"), FACE, 0, 1,
                          document_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryInvalidDueDate, dueDate=2**32):
        invoices.register(importer.address, usd.address, invoice_number("INV-10"), FACE, 0, 2**32,
                          document_hash("x"), sender=exporter)


def _batch(chain, buyers, usd, prefix: str) -> list[tuple]:
    due = now(chain) + 60 * DAY
    return [(buyer, usd.address, invoice_number(f"{prefix}-{i}"), 1_000_00 + i, now(chain), due,
             document_hash(f"{prefix}-{i}")) for i, buyer in enumerate(buyers)]


def test_register_batch_registers_every_invoice_and_rejects_a_duplicate_in_the_batch(chain, invoices, exporter,
                                                                                     importer, exporter2, usd):
    batch = _batch(chain, [importer.address if i % 2 else exporter2.address for i in range(6)], usd, "B")
    receipt = invoices.registerBatch(batch, sender=exporter)
    events = invoices.InvoiceRegistered.from_receipt(receipt)
    assert [e.faceAmount for e in events] == [1_000_00 + i for i in range(6)]
    assert invoices.balanceOf(exporter.address) == 6
    assert all(invoices.state(e.invoiceId) == InvoiceState.Registered for e in events)
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=events[0].invoiceId):
        invoices.registerBatch([batch[0]], sender=exporter)


@pytest.mark.parametrize("position", [0, 1, 3])
def test_L3_register_batch_refuses_a_zero_buyer_in_any_position(chain, invoices, registry, exporter, importer, usd,
                                                              position):
    """Audit L3: a zero buyer in the first position used to skip every buyer check and mint a token with no
    debtor behind it; a zero buyer later, after a run of the same buyer, must be refused as well."""
    buyers = [importer.address] * 4
    buyers[position] = ZERO_ADDRESS
    before = invoices.balanceOf(exporter.address)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=ZERO_ADDRESS,
                      neededRole=registry.CORPORATE_ROLE()):
        invoices.registerBatch(_batch(chain, buyers, usd, f"Z{position}"), sender=exporter)
    assert invoices.balanceOf(exporter.address) == before
    # Nothing of the batch was registered: the valid positions' keys are still free.
    for buyer, _, number, *_ in _batch(chain, buyers, usd, f"Z{position}"):
        if buyer != ZERO_ADDRESS:
            key = invoices.invoiceKey(exporter.address, buyer, number)
            assert invoices.state(int.from_bytes(key, "big")) == InvoiceState["None"]


def test_register_batch_refuses_a_buyer_that_is_not_an_authorized_corporate_after_a_valid_one(
        chain, invoices, registry, exporter, importer, bank_us, usd):
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.CORPORATE_ROLE()):
        invoices.registerBatch(_batch(chain, [importer.address, bank_us.address], usd, "NB"), sender=exporter)


# ───────────────────────────── Canonical invoice number ─────────────────────────────

def _canonical(raw: bytes) -> bytes | None:
    """The rule of `canonicalInvoiceNumber`, in Python: 1..32 printable ASCII characters without spaces
    (0x21-0x7E), left-aligned, zero-padded; a-z folded to A-Z. None: refused."""
    end = raw.find(b"\0")
    body, padding = (raw, b"") if end < 0 else (raw[:end], raw[end:])
    if not body or padding.strip(b"\0") or any(not 0x21 <= c <= 0x7E for c in body):
        return None
    return body.upper().ljust(32, b"\0")  # bytes.upper() folds ASCII a-z only


def test_canonical_invoice_number_folds_lower_case_letters_only(invoices):
    assert invoices.canonicalInvoiceNumber(invoice_number("inv-2026/07a")) == invoice_number("INV-2026/07A")
    assert invoices.canonicalInvoiceNumber(invoice_number("INV-7")) == invoice_number("INV-7")
    every_printable = bytes(range(0x21, 0x7F))  # 94 characters, in chunks of 32
    for start in range(0, len(every_printable), 32):
        chunk = every_printable[start:start + 32]
        assert invoices.canonicalInvoiceNumber(chunk.ljust(32, b"\0")) == chunk.upper().ljust(32, b"\0")
    # Neighbours of the letters are not letters: @ [ ` { stay as they are.
    assert invoices.canonicalInvoiceNumber(invoice_number("@[`{az")) == invoice_number("@[`{AZ")
    assert invoices.canonicalInvoiceNumber(b"x" * 32) == b"X" * 32


# The old "keccak of a longer number" encoding: 32 bytes that are not printable ASCII.
LONG_NUMBER_HASH = keccak(text="CN-EXP-2026-SHANGHAI-PUDONG-WAREHOUSE-7-0000042")

REFUSED_NUMBERS = {
    "empty": b"\0" * 32,
    "inner space": invoice_number("INV 7"),
    "leading space": invoice_number(" INV-7"),
    "space padding": b"INV-7".ljust(32, b" "),
    "tab": invoice_number("INV\t7"),
    "newline": invoice_number("INV-7\n"),
    "DEL": invoice_number("INV-7\x7f"),
    "non-ASCII": "FAKTURA-Nº7".encode().ljust(32, b"\0"),
    "Latin-1": b"INV-\xe97".ljust(32, b"\0"),
    "padding inside": b"INV\0-7".ljust(32, b"\0"),
    "leading padding": b"\0INV-7".ljust(32, b"\0"),
    "right-aligned": b"INV-7".rjust(32, b"\0"),
    "keccak of a longer number": LONG_NUMBER_HASH,
}


@pytest.mark.parametrize("raw", REFUSED_NUMBERS.values(), ids=REFUSED_NUMBERS.keys())
def test_an_invoice_number_that_is_not_canonical_is_refused_everywhere(chain, invoices, exporter, importer, usd,
                                                                       raw):
    assert _canonical(raw) is None
    with ape.reverts(invoices.InvoiceRegistryInvalidInvoiceNumber, invoiceNumber=raw):
        invoices.canonicalInvoiceNumber(raw)
    with ape.reverts(invoices.InvoiceRegistryInvalidInvoiceNumber, invoiceNumber=raw):
        invoices.invoiceKey(exporter.address, importer.address, raw)
    with ape.reverts(invoices.InvoiceRegistryInvalidInvoiceNumber, invoiceNumber=raw):
        invoices.register(importer.address, usd.address, raw, FACE, now(chain), now(chain) + 30 * DAY,
                          document_hash("x"), sender=exporter)


def test_two_spellings_of_one_invoice_number_are_one_key(chain, invoices, exporter, importer, usd):
    lower, upper = invoice_number("cn-exp-2026-0042"), invoice_number("CN-EXP-2026-0042")
    assert invoices.invoiceKey(exporter.address, importer.address, lower) == invoices.invoiceKey(
        exporter.address, importer.address, upper) == keccak(EXPORTER_ID + IMPORTER_ID + upper)
    receipt = invoices.register(importer.address, usd.address, lower, FACE, now(chain), now(chain) + 30 * DAY,
                                document_hash("lower"), sender=exporter)
    [event] = invoices.InvoiceRegistered.from_receipt(receipt)
    assert event.invoiceNumber == upper  # the event carries the canonical form
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=event.invoiceId):
        invoices.register(importer.address, usd.address, upper, FACE, now(chain), now(chain) + 30 * DAY,
                          document_hash("upper"), sender=exporter)
    mixed = (importer.address, usd.address, invoice_number("Cn-Exp-2026-0042"), FACE, now(chain),
             now(chain) + 30 * DAY, document_hash("mixed"))
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered, existingInvoiceId=event.invoiceId):
        invoices.registerBatch([mixed], sender=exporter)


def test_a_32_character_invoice_number_is_accepted(chain, invoices, exporter, importer, usd):
    longest = "inv-" + "9" * 28
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, longest, FACE)
    assert invoices.state(invoice_id) == InvoiceState.Registered
    assert invoice_id == int.from_bytes(keccak(EXPORTER_ID + IMPORTER_ID + longest.upper().encode("ascii")), "big")


def _with_bad_byte(case: tuple[str, int, int]) -> bytes:
    """A printable number with one byte that is not allowed (space, control, padding, non-ASCII) inserted."""
    text, at, bad = case
    raw = text.encode("ascii")
    return (raw[:at] + bytes([bad]) + raw[at:])[:32].ljust(32, b"\0")


_printable = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=32)


@settings(max_examples=150, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(
    _printable.map(lambda s: s.encode("ascii").ljust(32, b"\0")),  # canonical or foldable
    st.binary(min_size=32, max_size=32),  # almost always refused
    st.tuples(_printable, st.integers(0, 31), st.sampled_from(b" \t\x00\x7f\x80\xff")).map(_with_bad_byte),
))
@example(raw=b"A" + b"\0" * 31)
@example(raw=b"~" * 32)
def test_canonical_invoice_number_matches_the_rule_for_any_word(invoices, raw):
    expected = _canonical(raw)
    if expected is None:
        with ape.reverts(invoices.InvoiceRegistryInvalidInvoiceNumber, invoiceNumber=raw):
            invoices.canonicalInvoiceNumber(raw)
    else:
        assert invoices.canonicalInvoiceNumber(raw) == expected
        assert invoices.canonicalInvoiceNumber(expected) == expected  # idempotent


# ───────────────────────────── Confirmation and customs ─────────────────────────────

def test_confirm_by_the_buyer_moves_registered_to_confirmed(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-20", FACE)
    receipt = invoices.confirm(invoice_id, sender=importer)
    assert invoices.InvoiceConfirmed.from_receipt(receipt)[0].buyer == importer.address
    assert invoices.state(invoice_id) == InvoiceState.Confirmed


def test_confirm_fails_unless_the_buyer_confirms_once(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-21", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotBuyer, caller=exporter.address):
        invoices.confirm(invoice_id, sender=exporter)
    invoices.confirm(invoice_id, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Confirmed,
                     expectedStates=states_bitmap(InvoiceState.Registered)):
        invoices.confirm(invoice_id, sender=importer)


def test_confirm_fails_for_an_unknown_invoice(invoices, importer):
    with ape.reverts(invoices.InvoiceRegistryUnknownInvoice, invoiceId=42):
        invoices.confirm(42, sender=importer)
    assert invoices.state(42) == InvoiceState["None"]


def test_customs_attestation_records_a_match_and_a_mismatch(chain, invoices, exporter, importer, attester, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-22", FACE)
    assert invoices.customsOf(invoice_id) == (False, False)
    assert invoices.customsAttesterOf(invoice_id) == ZERO_ADDRESS
    receipt = invoices.attestCustoms(invoice_id, text_hash("decl-1"), FACE - 1, sender=attester)
    [event] = invoices.CustomsAttested.from_receipt(receipt)
    assert (event.attester, event.declaredAmount, event.faceAmount, event.matched) == (
        attester.address, FACE - 1, FACE, False)
    assert invoices.customsOf(invoice_id) == (True, False)
    assert invoices.customsAttesterOf(invoice_id) == attester.address
    invoices.attestCustoms(invoice_id, text_hash("decl-1-corrected"), FACE, sender=attester)
    assert invoices.customsOf(invoice_id) == (True, True)


def test_customs_attestation_fails_for_a_non_attester(chain, invoices, registry, exporter, importer, bank_cn, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-23", FACE)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_cn.address,
                      neededRole=registry.ATTESTER_ROLE()):
        invoices.attestCustoms(invoice_id, text_hash("decl"), FACE, sender=bank_cn)


def test_customs_declaration_is_replaced_by_its_own_attester(chain, invoices, exporter, importer, usd, carrier):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-25", FACE)
    invoices.attestCustoms(invoice_id, text_hash("bill-of-lading"), FACE - 5_00, sender=carrier)
    assert invoices.customsOf(invoice_id) == (True, False)
    receipt = invoices.attestCustoms(invoice_id, text_hash("bill-of-lading-corrected"), FACE, sender=carrier)
    assert invoices.CustomsAttested.from_receipt(receipt)[0].matched
    assert invoices.customsOf(invoice_id) == (True, True)
    assert invoices.customsAttesterOf(invoice_id) == carrier.address


def test_L7_customs_declaration_is_not_replaced_by_another_attester(chain, invoices, registry, operator, exporter,
                                                                  importer, attester, usd, carrier):
    """Audit L7: a carrier or an inspector may not overwrite a customs authority's mismatch (nor another
    attester's declaration). Without its `CUSTOMS_ROLE`, the demo customs office is just another attester."""
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-26", FACE)
    invoices.attestCustoms(invoice_id, text_hash("customs-declaration"), FACE - 1, sender=attester)
    with ape.reverts(invoices.InvoiceRegistryNotCustomsAttester, invoiceId=invoice_id, attester=attester.address,
                     caller=carrier.address):
        invoices.attestCustoms(invoice_id, text_hash("carrier-says-fine"), FACE, sender=carrier)
    assert invoices.customsOf(invoice_id) == (True, False)

    other = register_invoice(chain, invoices, exporter, importer, usd, "INV-27", FACE)
    invoices.attestCustoms(other, text_hash("carrier-declaration"), FACE, sender=carrier)
    registry.revokeRole(registry.CUSTOMS_ROLE(), attester.address, sender=operator)
    with ape.reverts(invoices.InvoiceRegistryNotCustomsAttester, invoiceId=other, attester=carrier.address,
                     caller=attester.address):
        invoices.attestCustoms(other, text_hash("inspector-mismatch"), FACE - 1, sender=attester)
    assert (invoices.customsOf(other), invoices.customsAttesterOf(other)) == ((True, True), carrier.address)


def test_customs_declaration_is_replaced_by_a_customs_authority(chain, invoices, registry, exporter, importer,
                                                                 attester, usd, carrier):
    assert registry.isAuthorized(attester.address, registry.CUSTOMS_ROLE())
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-28", FACE)
    invoices.attestCustoms(invoice_id, text_hash("carrier-declaration"), FACE, sender=carrier)
    receipt = invoices.attestCustoms(invoice_id, text_hash("customs-declaration"), FACE - 1, sender=attester)
    assert invoices.CustomsAttested.from_receipt(receipt)[0].attester == attester.address
    assert (invoices.customsOf(invoice_id), invoices.customsAttesterOf(invoice_id)) == ((True, False),
                                                                                         attester.address)
    # The declaration is now the customs authority's: the carrier may no longer replace it.
    with ape.reverts(invoices.InvoiceRegistryNotCustomsAttester, attester=attester.address, caller=carrier.address):
        invoices.attestCustoms(invoice_id, text_hash("carrier-again"), FACE, sender=carrier)


def test_customs_attestation_fails_after_financing(chain, invoices, exporter, importer, attester, bank_cn, usd,
                                                   lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-24", FACE)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=bank_cn)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Financed):
        invoices.attestCustoms(invoice_id, text_hash("decl"), FACE, sender=attester)


# ───────────────────────────── Cancellation ─────────────────────────────

def test_cancel_by_the_seller_before_financing(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-30", FACE)
    receipt = invoices.cancel(invoice_id, text_hash("wrong buyer"), sender=exporter)
    assert invoices.InvoiceCancelled.from_receipt(receipt)[0].reasonCode == text_hash("wrong buyer")
    assert invoices.state(invoice_id) == InvoiceState.Cancelled
    with ape.reverts(invoices.InvoiceRegistryAlreadyRegistered):
        register_invoice(chain, invoices, exporter, importer, usd, "INV-30", FACE)


def test_cancel_fails_for_anyone_but_the_seller(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-31", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotSeller, caller=importer.address):
        invoices.cancel(invoice_id, text_hash("x"), sender=importer)


def test_cancel_fails_once_financed_or_partly_paid(chain, invoices, exporter, importer, bank_cn, usd,
                                                   lien_instrument):
    financed = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-32", FACE)
    lien_instrument.takeLien(financed, exporter.address, bank_cn.address, sender=bank_cn)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Financed):
        invoices.cancel(financed, text_hash("x"), sender=exporter)
    partly_paid = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-33", FACE)
    invoices.pay(partly_paid, 1_00, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryPaymentsReceived, paidAmount=1_00):
        invoices.cancel(partly_paid, text_hash("x"), sender=exporter)


# ───────────────────────────── Payment ─────────────────────────────

def test_partial_payments_go_to_the_seller_until_paid(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-40", FACE)
    seller_before, buyer_before = usd.balanceOf(exporter.address), usd.balanceOf(importer.address)
    receipt = invoices.pay(invoice_id, 25_000_00, sender=importer)
    [event] = invoices.InvoicePaid.from_receipt(receipt)
    assert (event.toFinancier, event.toSeller, event.paidAmount) == (0, 25_000_00, 25_000_00)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    invoices.pay(invoice_id, FACE - 25_000_00, sender=importer)
    assert invoices.state(invoice_id) == InvoiceState.Paid
    assert usd.balanceOf(exporter.address) == seller_before + FACE
    assert usd.balanceOf(importer.address) == buyer_before - FACE
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Paid):
        invoices.pay(invoice_id, 1, sender=importer)


def test_pay_fails_above_the_outstanding_amount_or_for_zero(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-41", FACE)
    with ape.reverts(invoices.InvoiceRegistryOverpayment, amount=FACE + 1, outstanding=FACE):
        invoices.pay(invoice_id, FACE + 1, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryInvalidAmount, amount=0):
        invoices.pay(invoice_id, 0, sender=importer)


def test_pay_fails_for_anyone_but_the_buyer(chain, invoices, exporter, importer, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-42", FACE)
    with ape.reverts(invoices.InvoiceRegistryNotBuyer, caller=exporter.address):
        invoices.pay(invoice_id, 1, sender=exporter)


def test_pay_fails_for_a_cancelled_invoice(chain, invoices, exporter, importer, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-43", FACE)
    invoices.cancel(invoice_id, text_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Cancelled):
        invoices.pay(invoice_id, 1, sender=importer)


# ───────────────────────────── Liens ─────────────────────────────

def test_take_lien_fails_for_an_unregistered_instrument(chain, invoices, registry, operator, exporter, importer,
                                                         bank_cn, usd, outsider):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-50", FACE)
    with ape.reverts(invoices.InvoiceRegistryUnauthorizedInstrument, caller=outsider.address):
        invoices.takeLien(invoice_id, exporter.address, bank_cn.address, sender=outsider)
    unregistered = deploy_lien_double(operator, registry, invoices, lien_instrument=False)
    with reverts_with(invoices.InvoiceRegistryUnauthorizedInstrument, caller=unregistered.address):
        unregistered.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed


def test_M3_take_lien_needs_the_consent_of_the_invoice_owner(chain, invoices, exporter, importer, supplier1, bank_cn,
                                                          usd, lien_instrument):
    """Audit M3: nobody pledges another's receivable. The instrument names who consented; the registry checks
    that it owns the invoice now."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-56", FACE)
    with reverts_with(invoices.InvoiceRegistryCreditorMismatch, invoiceId=invoice_id, owner=exporter.address,
                      creditor=importer.address):
        lien_instrument.takeLien(invoice_id, importer.address, bank_cn.address, sender=importer)
    invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    with reverts_with(invoices.InvoiceRegistryCreditorMismatch, owner=supplier1.address,
                      creditor=exporter.address):
        lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    lien_instrument.takeLien(invoice_id, supplier1.address, bank_cn.address, sender=supplier1)
    assert invoices.invoice(invoice_id).lienFinancier == bank_cn.address


@pytest.mark.parametrize("frozen", ["creditor", "financier"])
def test_take_lien_needs_an_active_creditor_and_financier(chain, invoices, registry, regulator, exporter, importer,
                                                          bank_cn, usd, lien_instrument, frozen):
    """IInvoiceLiens: "`creditor` must own the invoice now and be active; `financier` must be active"."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, f"INV-59-{frozen}", FACE)
    party = exporter if frozen == "creditor" else bank_cn
    registry.freezeParticipant(party.address, text_hash("SANCTIONS"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=party.address):
        lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=importer)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed


def test_only_one_lien_at_a_time_across_financiers_and_instruments(chain, invoices, exporter, importer, supplier1,
                                                                   bank_cn, bank_us, usd, lien_instrument,
                                                                   other_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-51", FACE)
    receipt = lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    [taken] = invoices.LienTaken.from_receipt(receipt)
    assert (taken.instrument, taken.financier) == (lien_instrument.address, bank_cn.address)
    view = invoices.invoice(invoice_id)
    assert (view.state, view.lienInstrument, view.lienFinancier) == (InvoiceState.Financed, lien_instrument.address,
                                                                      bank_cn.address)
    held = {"invoiceId": invoice_id, "instrument": lien_instrument.address, "financier": bank_cn.address}
    with reverts_with(invoices.InvoiceRegistryLienAlreadyHeld, **held):
        lien_instrument.takeLien(invoice_id, exporter.address, bank_us.address, sender=exporter)
    with reverts_with(invoices.InvoiceRegistryLienAlreadyHeld, **held):
        other_instrument.takeLien(invoice_id, exporter.address, bank_us.address, sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Financed):
        invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)


def test_release_lien_only_by_the_holding_instrument(chain, invoices, operator, exporter, importer, bank_cn, usd,
                                                     lien_instrument, other_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-52", FACE)
    with reverts_with(invoices.InvoiceRegistryNoLien, caller=lien_instrument.address):
        lien_instrument.releaseLien(invoice_id, sender=exporter)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    with reverts_with(invoices.InvoiceRegistryNoLien, caller=other_instrument.address):
        other_instrument.releaseLien(invoice_id, sender=exporter)
    receipt = invoices.setInstrument(lien_instrument.address, False, sender=operator)
    [deregistered] = invoices.InstrumentSet.from_receipt(receipt)
    assert (deregistered.instrument, deregistered.registered) == (lien_instrument.address, False)
    assert not invoices.isInstrument(lien_instrument.address)
    receipt = lien_instrument.releaseLien(invoice_id, sender=exporter)  # deregistered: can still release
    assert invoices.LienReleased.from_receipt(receipt)[0].financier == bank_cn.address
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    with reverts_with(invoices.InvoiceRegistryUnauthorizedInstrument, caller=lien_instrument.address):
        lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)


def test_payment_of_a_liened_invoice_goes_to_the_financier_up_to_what_its_instrument_says_it_is_owed(
        chain, invoices, exporter, importer, bank_cn, usd, lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-53", FACE)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    lien_instrument.setOwed(invoice_id, 40_000_00, sender=bank_cn)
    bank_before, seller_before = usd.balanceOf(bank_cn.address), usd.balanceOf(exporter.address)

    receipt = invoices.pay(invoice_id, 30_000_00, sender=importer)
    [hook] = lien_instrument.HookCalled.from_receipt(receipt)
    assert (hook.invoiceId, hook.amount, hook.outstanding, hook.toFinancier, hook.releaseLien) == (
        invoice_id, 30_000_00, FACE, 30_000_00, False)
    assert invoices.InvoicePaid.from_receipt(receipt)[0].toFinancier == 30_000_00
    assert invoices.state(invoice_id) == InvoiceState.Financed

    receipt = invoices.pay(invoice_id, 25_000_00, sender=importer)  # 10,000 owed: the rest is the seller's
    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller, paid.paidAmount) == (10_000_00, 15_000_00, 55_000_00)
    assert lien_instrument.HookCalled.from_receipt(receipt)[0].outstanding == FACE - 30_000_00
    assert invoices.LienReleased.from_receipt(receipt)[0].instrument == lien_instrument.address
    assert usd.balanceOf(bank_cn.address) == bank_before + 40_000_00
    assert usd.balanceOf(exporter.address) == seller_before + 15_000_00

    receipt = invoices.pay(invoice_id, FACE - 55_000_00, sender=importer)  # no lien: no hook, all to the seller
    assert lien_instrument.HookCalled.from_receipt(receipt) == []
    assert usd.balanceOf(exporter.address) == seller_before + FACE - 40_000_00
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_H2_a_lien_that_only_reserves_the_invoice_routes_nothing_to_the_would_be_financier(
        chain, invoices, exporter, importer, bank_cn, usd, lien_instrument):
    """Audit H2: a lien taken before any value moved sends the buyer's payment to the seller, not the bank."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-57", FACE)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    bank_before, seller_before = usd.balanceOf(bank_cn.address), usd.balanceOf(exporter.address)
    receipt = invoices.pay(invoice_id, 50_000_00, sender=importer)
    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller) == (0, 50_000_00)
    assert usd.balanceOf(bank_cn.address) == bank_before
    assert usd.balanceOf(exporter.address) == seller_before + 50_000_00
    assert invoices.invoice(invoice_id).lienFinancier == bank_cn.address  # the reservation stays


def test_the_registry_caps_what_an_instrument_routes_to_its_financier_at_the_payment(
        chain, invoices, exporter, importer, bank_cn, usd, lien_instrument):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-58", FACE)
    lien_instrument.takeLien(invoice_id, exporter.address, bank_cn.address, sender=exporter)
    lien_instrument.setOwed(invoice_id, 10_000_00, sender=bank_cn)
    lien_instrument.setOverstatement(1_000_000_00, sender=bank_cn)
    bank_before, buyer_before = usd.balanceOf(bank_cn.address), usd.balanceOf(importer.address)
    receipt = invoices.pay(invoice_id, 20_000_00, sender=importer)
    [paid] = invoices.InvoicePaid.from_receipt(receipt)
    assert (paid.toFinancier, paid.toSeller) == (20_000_00, 0)
    assert usd.balanceOf(bank_cn.address) == bank_before + 20_000_00
    assert usd.balanceOf(importer.address) == buyer_before - 20_000_00


def test_take_lien_fails_on_a_paid_or_cancelled_invoice(chain, invoices, exporter, importer, bank_cn, usd,
                                                        lien_instrument):
    cancelled = register_invoice(chain, invoices, exporter, importer, usd, "INV-54", FACE)
    invoices.cancel(cancelled, text_hash("x"), sender=exporter)
    with reverts_with(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Cancelled):
        lien_instrument.takeLien(cancelled, exporter.address, bank_cn.address, sender=exporter)
    paid = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-55", 10_00)
    invoices.pay(paid, 10_00, sender=importer)
    with reverts_with(invoices.InvoiceRegistryUnexpectedState, current=InvoiceState.Paid):
        lien_instrument.takeLien(paid, exporter.address, bank_cn.address, sender=exporter)


def test_set_instrument_refuses_a_contract_without_the_payment_hook(invoices, registry, operator, platform,
                                                                    outsider):
    """Every lien instrument implements `IInvoicePaymentHook`, checked with ERC-165 when it is registered."""
    no_hook = deploy_lien_double(operator, registry, invoices, implements_hook=False, lien_instrument=False)
    router = platform["PaymentRouter"]  # an Instrument participant, but no lien instrument
    token = platform["SettlementTokenUSD"]  # a contract without ERC-165
    for candidate in (no_hook.address, router.address, outsider.address, token.address):
        with ape.reverts(invoices.InvoiceRegistryMissingPaymentHook, instrument=candidate):
            invoices.setInstrument(candidate, True, sender=operator)
        assert not invoices.isInstrument(candidate)


def test_set_instrument_needs_an_authorized_instrument_participant(invoices, registry, operator, regulator):
    unregistered = deploy_lien_double(operator, registry, invoices, participant=False, lien_instrument=False)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=unregistered.address,
                      neededRole=registry.INSTRUMENT_ROLE()):
        invoices.setInstrument(unregistered.address, True, sender=operator)
    frozen = deploy_lien_double(operator, registry, invoices, lien_instrument=False)
    registry.freezeParticipant(frozen.address, text_hash("SANCTIONS"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=frozen.address):
        invoices.setInstrument(frozen.address, True, sender=operator)
    registry.unfreezeParticipant(frozen.address, text_hash("CLEARED"), sender=regulator)
    receipt = invoices.setInstrument(frozen.address, True, sender=operator)
    [event] = invoices.InstrumentSet.from_receipt(receipt)
    assert (event.instrument, event.registered) == (frozen.address, True)
    assert invoices.isInstrument(frozen.address)


def test_the_deployed_lien_instruments_are_registered(invoices, platform):
    for name in ("ReceivableFinancing", "LetterOfCredit", "PayableCertificates"):
        assert invoices.isInstrument(platform[name].address), name
    assert not invoices.isInstrument(platform["PaymentRouter"].address)


# ───────────────────────────── Default, freeze ─────────────────────────────

def test_invoice_defaults_after_due_date_plus_grace_and_can_still_be_paid(chain, invoices, exporter, importer,
                                                                          usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-60", FACE, due_in=30 * DAY)
    due = invoices.invoice(invoice_id).dueDate
    advance_to(chain, due + INVOICE_GRACE_PERIOD)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed  # the last second of grace
    advance_to(chain, due + INVOICE_GRACE_PERIOD + 1)
    assert invoices.state(invoice_id) == InvoiceState.Defaulted
    invoices.pay(invoice_id, FACE, sender=importer)
    assert invoices.state(invoice_id) == InvoiceState.Paid


def test_a_frozen_invoice_refuses_every_transition(chain, invoices, registry, regulator, exporter, importer,
                                                   supplier1, usd):
    invoice_id = register_invoice(chain, invoices, exporter, importer, usd, "INV-61", FACE)
    registry.freezeInstrument(invoices.address, invoice_id, text_hash("AML-HOLD"), sender=regulator)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.confirm(invoice_id, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.cancel(invoice_id, text_hash("x"), sender=exporter)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.pay(invoice_id, 1_00, sender=importer)
    with ape.reverts(invoices.InvoiceRegistryFrozen, invoiceId=invoice_id):
        invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    registry.unfreezeInstrument(invoices.address, invoice_id, text_hash("AML-CLEAR"), sender=regulator)
    invoices.confirm(invoice_id, sender=importer)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed


# ───────────────────────────── Assignment (ERC-721 transfers) ─────────────────────────────

def test_assignment_of_a_confirmed_invoice_redirects_payment_to_the_new_owner(chain, invoices, exporter,
                                                                             importer, supplier1, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-62", FACE)
    invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    assert invoices.invoice(invoice_id).seller == supplier1.address
    before = usd.balanceOf(supplier1.address)
    invoices.pay(invoice_id, FACE, sender=importer)
    assert usd.balanceOf(supplier1.address) == before + FACE


def test_H3_a_frozen_owner_cannot_assign_its_invoice(chain, invoices, registry, regulator, exporter, importer,
                                                  supplier1, supplier2, usd):
    """Audit H3: a frozen seller may not hand the receivable to an accomplice, itself or through an operator
    it approved before the freeze."""
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-63", FACE)
    invoices.setApprovalForAll(supplier2.address, True, sender=exporter)
    registry.freezeParticipant(exporter.address, text_hash("SANCTIONS"), sender=regulator)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=exporter.address):
        invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=supplier2)
    assert invoices.ownerOf(invoice_id) == exporter.address


def test_H3_an_owner_whose_kyc_lapsed_cannot_assign_its_invoice(chain, invoices, registry, bank_cn, exporter,
                                                             importer, supplier1, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-64", FACE)
    assert registry.kycBanksOf(exporter.address) == [bank_cn.address]
    lapses_at = now(chain) + DAY
    registry.attestKyc(exporter.address, KycStatus.Approved, lapses_at, text_hash("kyc:short-renewal"), sender=bank_cn)
    advance_to(chain, lapses_at + 1)
    assert invoices.state(invoice_id) == InvoiceState.Confirmed
    with reverts_with(registry.ParticipantRegistryKycNotValid, account=exporter.address):
        invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=exporter)
    assert invoices.ownerOf(invoice_id) == exporter.address


def test_H3_a_frozen_operator_cannot_move_an_invoice_it_was_approved_for(chain, invoices, registry, regulator,
                                                                      exporter, importer, supplier1, supplier2,
                                                                      usd):
    first = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-65", FACE)
    second = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-66", FACE)
    invoices.approve(supplier2.address, first, sender=exporter)
    invoices.setApprovalForAll(supplier2.address, True, sender=exporter)
    registry.freezeParticipant(supplier2.address, text_hash("SANCTIONS"), sender=regulator)
    for invoice_id in (first, second):
        with reverts_with(registry.ParticipantRegistryParticipantFrozen, account=supplier2.address):
            invoices.transferFrom(exporter.address, supplier1.address, invoice_id, sender=supplier2)
    registry.unfreezeParticipant(supplier2.address, text_hash("CLEARED"), sender=regulator)
    invoices.transferFrom(exporter.address, supplier1.address, second, sender=supplier2)
    assert invoices.ownerOf(second) == supplier1.address


def test_an_invoice_cannot_be_assigned_to_its_debtor_or_an_outsider(chain, invoices, registry, operator,
                                                                    exporter, importer, outsider, bank_us, usd):
    invoice_id = confirmed_invoice(chain, invoices, exporter, importer, usd, "INV-67", FACE)
    with ape.reverts(invoices.InvoiceRegistrySameParty, identityHash=IMPORTER_ID):
        invoices.transferFrom(exporter.address, importer.address, invoice_id, sender=exporter)
    with reverts_with(registry.AccessControlUnauthorizedAccount, account=bank_us.address,
                      neededRole=registry.CORPORATE_ROLE()):
        invoices.transferFrom(exporter.address, bank_us.address, invoice_id, sender=exporter)
    _link_wallet(registry, operator, outsider, importer)  # another wallet of the debtor: the same identity
    with ape.reverts(invoices.InvoiceRegistrySameParty, identityHash=IMPORTER_ID):
        invoices.transferFrom(exporter.address, outsider.address, invoice_id, sender=exporter)
    assert invoices.ownerOf(invoice_id) == exporter.address


# ───────────────────────────── Operator ─────────────────────────────

def test_operator_settings_are_refused_to_others(invoices, registry, exporter, usd):
    not_operator = {"account": exporter.address, "neededRole": registry.OPERATOR_ROLE()}
    with reverts_with(registry.AccessControlUnauthorizedAccount, **not_operator):
        invoices.setInstrument(exporter.address, True, sender=exporter)
    with reverts_with(registry.AccessControlUnauthorizedAccount, **not_operator):
        invoices.setCurrency(usd.address, False, sender=exporter)


def test_grace_period_is_fixed_at_deployment(invoices):
    assert invoices.gracePeriod() == INVOICE_GRACE_PERIOD
