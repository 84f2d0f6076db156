"""Issue 12 finding "Errors say what happened in domain words": state names instead of integers and bitmaps, an
early preclusion claim says until when the examination period runs, a second bank is told the invoice is liened
and by which instrument, and times read as UTC dates."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from instrument_helpers import approve_spender, chain_now, code, invoice
from test_letters_of_credit import _advised, _presented, _step

BASE = "/v1/letters-of-credit"
DEVELOPER_WORDS = re.compile(r"0x[0-9a-fA-F]+|bitmap|<<|uint8")  # hex words, bitmaps, Solidity types


def test_domain_words_an_early_preclusion_claim_says_until_when_the_examination_runs(api, world):
    for role in ("importer", "bank_us"):
        approve_spender(api, role, "LetterOfCredit")
    lc = _advised(api, world)
    pid = _presented(api, world, lc)
    early = _step(api, "exporter", lc, pid, "claim-preclusion")
    assert early.status_code == 409 and code(early) == "LetterOfCreditUnexpectedPresentationState"
    error = early.json()["error"]
    deadline = error["details"]["examinationDeadline"]
    assert deadline > chain_now(world)
    until = datetime.fromtimestamp(deadline, UTC).strftime("%Y-%m-%d")
    assert f"examination period runs until {until}" in error["message"]
    assert error["details"]["examination_period_ends"].startswith(until)
    assert error["message"].endswith("neither honoured nor refused")
    assert error["details"]["current"] == "Presented" and error["details"]["expectedStates"] == ["Precluded"]
    assert f"presentation {pid} under credit {lc} is Presented" in error["message"]
    assert not DEVELOPER_WORDS.search(error["message"]) and str(deadline) not in error["message"], error["message"]


def test_domain_words_unexpected_states_are_named_not_bitmaps(api, world):
    invoice_id = invoice(api, world)  # confirmed by its buyer
    again = api.post("importer", f"/v1/invoices/{invoice_id}/confirm")
    assert again.status_code == 409 and code(again) == "InvoiceRegistryUnexpectedState"
    error = again.json()["error"]
    assert error["details"]["current"] == "Confirmed" and error["details"]["expectedStates"] == ["Registered"]
    assert error["message"] == (f"InvoiceRegistry refused: invoice {invoice_id} is Confirmed; this step needs it to be "
                                "Registered")
    assert not DEVELOPER_WORDS.search(error["message"]), error["message"]


def test_domain_words_a_second_bank_is_told_the_invoice_is_liened_and_by_what(api, world):
    for role in ("bank_cn", "bank_us"):
        approve_spender(api, role, "ReceivableFinancing")
    invoice_id = invoice(api, world)
    applied = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_cn"],
                                                           "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    approved = api.post("bank_cn", f"/v1/financings/{applied.json()['result']['financing_id']}/approve", json={
        "advance_amount": 4_000_00, "rate_bps": 0, "maturity": chain_now(world) + 30 * 86_400,
        "terms_hash": "0x" + "cd" * 32})
    assert approved.status_code == 200, approved.text
    second = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_us"],
                                                          "requested_amount": 5_000_00})
    assert second.status_code == 409 and code(second) == "ReceivableFinancingInvoiceLiened", second.text
    error = second.json()["error"]
    assert error["details"]["instrument"] == world.addresses["ReceivableFinancing"]
    assert error["details"]["financier"] == world.roles["bank_cn"]
    assert "already liened: through ReceivableFinancing" in error["message"] and "NotConfirmed" not in error["message"]


def test_domain_words_times_in_a_refusal_read_as_utc_dates(api, world):
    now = chain_now(world)
    past_due = {"buyer": world.roles["importer"], "currency": "USD", "invoice_number": "INV-PAST-DUE",
                "face_amount": 1_00, "issue_date": now - 86_400, "due_date": now - 3_600,
                "document_hash": "0x" + "ee" * 32}
    refused = api.post("exporter", "/v1/invoices", json=past_due)
    assert refused.status_code == 422 and code(refused) == "InvoiceRegistryInvalidDueDate", refused.text
    error = refused.json()["error"]
    assert error["details"]["dueDate"] == now - 3_600  # details keep the integers, for programs
    due = datetime.fromtimestamp(now - 3_600, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert due in error["message"] and str(now - 3_600) not in error["message"], error["message"]
    assert not DEVELOPER_WORDS.search(error["message"]), error["message"]
