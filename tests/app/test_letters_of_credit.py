"""Letters of credit through the gateway: application to payment, amendments, cancellation, presentations
(a commercial invoice always with its registered invoice), the documents they share, and who may take each step.

The importer applies (applicant), the exporter is the beneficiary, bank_us issues, bank_cn advises (and
confirms where a test says so). Every credit is fresh, so tests do not depend on each other; the one that
moves the chain's clock forward (preclusion) comes last. A presentation whose documents include a commercial
invoice names the exporter's registered invoice to the importer: `_present` registers a fresh one for the
claimed amount unless the test names its own.
"""

from __future__ import annotations

import hashlib
import secrets
import time

import httpx
import pytest
from instrument_helpers import chain_now, code, rpc

DAY = 86_400
BASE = "/v1/letters-of-credit"


def _ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, r.text
    return r.json()["result"]


def _terms(world, **overrides) -> dict:
    now = chain_now(world)
    return {"beneficiary": world.roles["exporter"], "issuing_bank": world.roles["bank_us"],
            "advising_bank": world.roles["bank_cn"], "currency": "USD", "amount": 50_000_00,
            "tolerance_percent": 10, "expiry_date": now + 60 * DAY, "latest_shipment_date": now + 30 * DAY,
            "required_documents": ["CommercialInvoice", "TransportDocument"]} | overrides


def _apply(api, world, **overrides) -> str:
    return _ok(api.post("importer", BASE, json=_terms(world, **overrides)), 201)["lc_id"]


def _advised(api, world, margin: int = 5_000_00, **overrides) -> str:
    lc = _apply(api, world, **overrides)
    _ok(api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": margin}))
    _ok(api.post("bank_cn", f"{BASE}/{lc}/advise"))
    return lc


def _docs(*types: str) -> list[dict]:
    types = types or ("CommercialInvoice", "TransportDocument")
    return [{"type": t, "sha256": "0x" + secrets.token_hex(32)} for t in types]


def _invoice(api, world, currency: str = "USD", buyer: str = "importer", face: int = 60_000_00,
             confirm: bool = True) -> str:
    """The exporter's registered invoice (to the importer by default), confirmed by its buyer unless told not."""
    now = chain_now(world)
    body = {"buyer": world.roles[buyer], "currency": currency, "invoice_number": f"INV-{secrets.token_hex(6)}",
            "face_amount": face, "issue_date": now, "due_date": now + 90 * DAY,
            "document_hash": "0x" + secrets.token_hex(32)}
    invoice = _ok(api.post("exporter", "/v1/invoices", json=body), 201)["invoice_id"]
    if confirm:
        _ok(api.post(buyer, f"/v1/invoices/{invoice}/confirm"))
    return invoice


def _with_commercial_invoice(body: dict) -> bool:
    documents, amount = body.get("documents"), body.get("amount")
    return (isinstance(documents, list) and any(isinstance(d, dict) and d.get("type") == "CommercialInvoice"
                                                for d in documents)
            and isinstance(amount, int) and 0 < amount < 2**48)


def _present(api, world, lc: str, role: str = "exporter", **overrides) -> httpx.Response:
    body = {"documents": _docs(), "shipment_date": chain_now(world) - DAY, "amount": 50_000_00} | overrides
    if "invoice_id" not in overrides and _with_commercial_invoice(body):
        body["invoice_id"] = _invoice(api, world, face=body["amount"], confirm=False)
    return api.post(role, f"{BASE}/{lc}/presentations", json=body)


def _presented(api, world, lc: str, **overrides) -> str:
    return _ok(_present(api, world, lc, **overrides), 201)["presentation_id"]


def _step(api, role: str, lc: str, pid: str, action: str, **kw) -> httpx.Response:
    return api.post(role, f"{BASE}/{lc}/presentations/{pid}/{action}", **kw)


def _usd(api, role: str) -> int:
    return next(b["amount"] for b in api.get(role, "/v1/balances").json()["balances"] if b["currency"] == "USD")


@pytest.fixture(scope="module", autouse=True)
def approvals(api):
    """The applicant lets the LC contract escrow margins, the issuing bank lets it pay beneficiaries."""
    for role in ("importer", "bank_us"):
        _ok(api.post(role, "/v1/approvals", json={"currency": "USD", "spender": "LetterOfCredit", "amount": 10**15}))


# ───────────────────────────── The happy paths ─────────────────────────────

def test_sight_credit_is_applied_issued_advised_presented_examined_and_paid(api, world):
    applied = _ok(api.post("importer", BASE, json=_terms(world)), 201)
    assert applied["state"] == "Applied" and applied["applicant"] == world.roles["importer"]
    assert applied["beneficiary"] == world.roles["exporter"] and applied["confirming_bank"] is None
    assert applied["availability"] == "SightPayment" and applied["currency"] == "USD"
    assert applied["required_documents"] == ["CommercialInvoice", "TransportDocument"]
    lc = applied["lc_id"]

    issued = api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 5_000_00})
    assert issued.json()["tx_hash"].startswith("0x") and issued.json()["block_number"] > 0
    assert _ok(issued) == {"lc_id": lc, "event": "CreditIssued", "by": world.roles["bank_us"],
                                       "state": "Issued", "margin": 5_000_00, "margin_released": 0}
    assert _ok(api.post("bank_cn", f"{BASE}/{lc}/advise"))["state"] == "Advised"

    invoice = _invoice(api, world, face=50_000_00)
    presented = _ok(_present(api, world, lc, invoice_id=invoice), 201)
    assert presented["state"] == "Presented" and presented["discrepancies"] == [] and presented["invoice_id"] == invoice
    pid = presented["presentation_id"]
    examined = _ok(_step(api, "bank_us", lc, pid, "examine", json={"bank_discrepancies": []}))
    assert examined["state"] == "Compliant" and examined["discrepancies"] == []

    beneficiary_before = _usd(api, "exporter")
    paid = _ok(_step(api, "bank_us", lc, pid, "honour"))
    assert paid["state"] == "Paid" and paid["honoured_from"] == "Compliant" and paid["maturity_date"] is None
    assert paid["paid_amount"] == 50_000_00 and paid["margin_applied"] == 5_000_00
    assert _usd(api, "exporter") == beneficiary_before + 50_000_00
    # The credit recorded its payment on the invoice: paid in full, the buyer owes nothing more on it.
    _ok(api.post("importer", "/v1/approvals", json={"currency": "USD", "spender": "InvoiceRegistry",
                                                     "amount": 10**12}))
    after = api.post("importer", f"/v1/invoices/{invoice}/payments", json={"amount": 1})
    assert after.status_code == 409 and code(after) == "InvoiceRegistryUnexpectedState"
    assert after.json()["error"]["details"]["current"] == "Paid"


def test_a_discrepant_presentation_is_refused_and_a_waived_one_is_honoured(api, world):
    lc = _advised(api, world, partial_shipments_allowed=True)
    first = _presented(api, world, lc, amount=20_000_00)
    discrepant = _ok(_step(api, "bank_us", lc, first, "examine", json={"bank_discrepancies": ["INCONSISTENT_DATA"]}))
    assert discrepant["state"] == "Discrepant" and discrepant["discrepancies"] == ["INCONSISTENT_DATA"]
    refused = _ok(_step(api, "bank_us", lc, first, "refuse"))
    assert refused["state"] == "Refused" and refused["discrepancies"] == ["INCONSISTENT_DATA"]

    second = _presented(api, world, lc, amount=20_000_00, documents=_docs("CommercialInvoice"))
    _ok(_step(api, "bank_us", lc, second, "examine", json={}))
    waived = _ok(_step(api, "importer", lc, second, "waive"))
    assert waived == waived | {"state": "Waived", "event": "DiscrepanciesWaived"}
    honoured = _ok(_step(api, "bank_us", lc, second, "honour"))
    assert honoured["honoured_from"] == "Waived" and honoured["state"] == "Paid"


def test_a_claim_beyond_the_ceiling_cannot_be_waived(api, world):
    lc = _advised(api, world)
    over = _ok(_present(api, world, lc, amount=55_000_01), 201)
    assert over["discrepancies"] == ["OVER_TOLERANCE"]
    _ok(_step(api, "bank_us", lc, over["presentation_id"], "examine", json={}))
    r = _step(api, "importer", lc, over["presentation_id"], "waive")
    assert r.status_code == 409 and code(r) == "LetterOfCreditWaiverNotAllowed"


def test_missing_documents_are_found_on_chain_at_presentation(api, world):
    lc = _advised(api, world)
    presented = _ok(_present(api, world, lc, documents=_docs("CommercialInvoice")), 201)
    assert presented["discrepancies"] == ["MISSING_DOCUMENT"]


def test_deferred_payment_is_honoured_then_paid_by_a_party_at_maturity(api, world):
    """`payAtMaturity` stays open to anyone on chain; the gateway pays for a party of the credit only. A stranger
    paying a matured presentation was answered 200 with the amount (issue 12): it is now refused before anything is
    sent, and the advising bank (a party, not the one paying) takes the step."""
    lc = _advised(api, world, availability="DeferredPayment", deferred_payment_days=3, partial_shipments_allowed=True)
    matured = _presented(api, world, lc, amount=10_000_00, shipment_date=chain_now(world) - 10 * DAY)
    _ok(_step(api, "bank_us", lc, matured, "examine", json={}))
    honoured = _ok(_step(api, "bank_us", lc, matured, "honour"))
    assert honoured["state"] == "Honoured" and honoured["paid_amount"] == 0 and honoured["maturity_date"] > 0
    outsider = _step(api, "supplier1", lc, matured, "pay")
    assert outsider.status_code == 403 and code(outsider) == "LetterOfCreditUnauthorizedCaller", outsider.text
    paid = _ok(_step(api, "bank_cn", lc, matured, "pay"))
    assert paid["state"] == "Paid" and paid["paid_amount"] == 10_000_00 and paid["event"] == "PresentationPaid"

    not_yet = _presented(api, world, lc, amount=10_000_00)
    _ok(_step(api, "bank_us", lc, not_yet, "examine", json={}))
    _ok(_step(api, "bank_us", lc, not_yet, "honour"))
    early = _step(api, "exporter", lc, not_yet, "pay")
    assert early.status_code == 409 and code(early) == "LetterOfCreditNotMatured"
    stranger = _step(api, "supplier1", lc, not_yet, "pay")  # the gateway pays for the parties only (issue 12)
    assert stranger.status_code == 403 and code(stranger) == "LetterOfCreditUnauthorizedCaller"


# ───────────────────────────── Documents ─────────────────────────────

def test_presented_documents_become_downloadable_by_the_credits_parties_only(api, http, world):
    lc = _advised(api, world, confirming_bank=world.roles["bank_cn"])
    content = b"bill of lading " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=content, headers=world.auth("exporter")).json()["sha256"]
    assert digest == "0x" + hashlib.sha256(content).hexdigest()
    assert api.get("importer", f"/v1/documents/{digest}").status_code == 404
    documents = [{"type": "TransportDocument", "sha256": digest}, *_docs("CommercialInvoice")]
    _ok(_present(api, world, lc, documents=documents), 201)
    for party in ("importer", "bank_us", "bank_cn"):
        assert api.get(party, f"/v1/documents/{digest}").content == content
    assert api.get("supplier1", f"/v1/documents/{digest}").status_code == 404


def _indexed(api, block: int) -> None:
    """Wait until the gateway's indexer has indexed `block` (it grants document access too)."""
    deadline = time.monotonic() + 20
    while (api.get("regulator", "/v1/index/status").json()["block_number"] or 0) < block:
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.05)


def test_a_presentation_does_not_share_a_document_the_beneficiary_cannot_read(api, http, world):
    """A document's hash is public once any instrument carries it on chain: knowing it gives no access."""
    secret = b"supplier's own file " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=secret, headers=world.auth("supplier1")).json()["sha256"]
    lc = _advised(api, world)
    presented = _present(api, world, lc, documents=[{"type": "CommercialInvoice", "sha256": digest},
                                                    *_docs("TransportDocument")])
    _ok(presented, 201)
    _indexed(api, presented.json()["block_number"])
    for role in ("exporter", "importer", "bank_us", "bank_cn"):
        assert api.get(role, f"/v1/documents/{digest}").status_code == 404


def test_a_presentation_does_not_share_the_applicants_own_document_with_the_beneficiary(api, http, world):
    """The indexer grants a presented document only when the beneficiary, who chose the hash, may read it."""
    private = b"applicant's board minutes " + secrets.token_bytes(8)
    digest = http.post("/v1/documents", content=private, headers=world.auth("importer")).json()["sha256"]
    lc = _advised(api, world)
    presented = _present(api, world, lc, documents=[{"type": "CommercialInvoice", "sha256": digest},
                                                    *_docs("TransportDocument")])
    _ok(presented, 201)
    _indexed(api, presented.json()["block_number"])
    for role in ("exporter", "bank_us", "bank_cn"):
        assert api.get(role, f"/v1/documents/{digest}").status_code == 404


def test_every_presented_document_is_shared_once_indexed_too(api, http, world):
    lc = _advised(api, world)
    contents = [b"invoice " + secrets.token_bytes(8), b"bill of lading " + secrets.token_bytes(8)]
    digests = [http.post("/v1/documents", content=c, headers=world.auth("exporter")).json()["sha256"]
               for c in contents]
    presented = _present(api, world, lc, documents=[{"type": "CommercialInvoice", "sha256": digests[0]},
                                                    {"type": "TransportDocument", "sha256": digests[1]}])
    _ok(presented, 201)
    _indexed(api, presented.json()["block_number"])
    for digest, content in zip(digests, contents):
        assert api.get("bank_us", f"/v1/documents/{digest}").content == content


# ───────────────────────────── Presentation with an invoice ─────────────────────────────

def test_a_presentation_with_the_beneficiarys_invoice_takes_a_lien_on_it(api, world):
    lc = _advised(api, world)
    invoice = _invoice(api, world)
    presented = _ok(_present(api, world, lc, invoice_id=invoice), 201)
    assert presented["invoice_id"] == invoice


def test_a_presentation_with_an_invoice_to_someone_else_is_409(api, world):
    lc = _advised(api, world)
    r = _present(api, world, lc, invoice_id=_invoice(api, world, buyer="supplier1"))
    assert r.status_code == 409 and code(r) == "LetterOfCreditInvoiceMismatch"


def test_a_commercial_invoice_is_presented_with_its_registered_invoice_and_only_then(api, world):
    lc = _advised(api, world)
    unnamed = _present(api, world, lc, invoice_id=None)
    assert unnamed.status_code == 422 and code(unnamed) == "ValidationError"
    (field,) = unnamed.json()["error"]["details"]["fields"]
    assert field["field"] == "body.invoice_id" and "name its registered invoice" in field["reason"]
    stray = _present(api, world, lc, documents=_docs("TransportDocument"), invoice_id=_invoice(api, world))
    assert stray.status_code == 422 and code(stray) == "ValidationError"
    assert "only with its commercial invoice" in stray.json()["error"]["details"]["fields"][0]["reason"]
    without = _ok(_present(api, world, lc, documents=_docs("TransportDocument")), 201)
    assert without["invoice_id"] is None and without["discrepancies"] == ["MISSING_DOCUMENT"]


def test_an_invoice_financed_elsewhere_cannot_be_drawn_against(api, world):
    invoice = _invoice(api, world)
    _ok(api.post("bank_cn", "/v1/approvals", json={"currency": "USD", "spender": "ReceivableFinancing",
                                                    "amount": 10_000_00}))
    financing = _ok(api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice, "bank": world.roles["bank_cn"], "requested_amount": 10_000_00}), 201)["financing_id"]
    _ok(api.post("bank_cn", f"/v1/financings/{financing}/approve", json={
        "advance_amount": 10_000_00, "rate_bps": 0, "maturity": chain_now(world) + 30 * DAY,
        "terms_hash": "0x" + "cd" * 32}))
    lc = _advised(api, world)
    r = _present(api, world, lc, invoice_id=invoice)
    assert r.status_code == 409 and code(r) == "InvoiceRegistryLienAlreadyHeld"
    assert r.json()["error"]["details"] == {"invoiceId": int(invoice),
                                            "instrument": world.addresses["ReceivableFinancing"],
                                            "financier": world.roles["bank_cn"]}


def test_the_buyer_may_not_pay_directly_what_a_presentation_claims(api, world):
    lc = _advised(api, world)
    invoice = _invoice(api, world, face=60_000_00)
    pid = _presented(api, world, lc, invoice_id=invoice)  # claims 50,000.00 of the 60,000.00
    _ok(api.post("importer", "/v1/approvals", json={"currency": "USD", "spender": "InvoiceRegistry",
                                                     "amount": 10**12}))
    eating = api.post("importer", f"/v1/invoices/{invoice}/payments", json={"amount": 10_000_01})
    assert eating.status_code == 409 and code(eating) == "LetterOfCreditInvoiceUnderPresentation"
    assert eating.json()["error"]["details"] == {"lcId": int(lc), "presentationId": int(pid), "invoiceId": int(invoice),
                                                 "payableDirectly": 10_000_00}
    rest = _ok(api.post("importer", f"/v1/invoices/{invoice}/payments", json={"amount": 10_000_00}))
    assert rest["to_seller"] == 10_000_00 and rest["to_financier"] == 0, "the reserving lien routes nothing to the bank"
    _ok(_step(api, "bank_us", lc, pid, "examine", json={}))
    assert _ok(_step(api, "bank_us", lc, pid, "honour"))["state"] == "Paid"
    done = api.post("importer", f"/v1/invoices/{invoice}/payments", json={"amount": 1})
    assert done.status_code == 409 and code(done) == "InvoiceRegistryUnexpectedState"


def test_the_bank_declares_only_documentary_discrepancies(api, world):
    lc = _advised(api, world)
    pid = _presented(api, world, lc)
    r = _step(api, "bank_us", lc, pid, "examine", json={"bank_discrepancies": ["LATE_SHIPMENT"]})
    assert r.status_code == 422 and code(r) == "ValidationError"
    assert "only INCONSISTENT_DATA" in r.json()["error"]["details"]["fields"][0]["reason"]


# ───────────────────────────── Amendments ─────────────────────────────

def _amendment(world, **overrides) -> dict:
    now = chain_now(world)
    return {"amount": 55_000_00, "expiry_date": now + 90 * DAY, "latest_shipment_date": now + 45 * DAY,
            "required_documents": ["CommercialInvoice", "TransportDocument", "PackingList"]} | overrides


def test_the_beneficiary_accepts_one_amendment_and_rejects_the_next(api, world):
    lc = _advised(api, world)
    proposed = _ok(api.post("bank_us", f"{BASE}/{lc}/amendments", json=_amendment(world)), 201)
    assert proposed["amendment_number"] == 1 and proposed["required_documents"][-1] == "PackingList"
    again = api.post("bank_us", f"{BASE}/{lc}/amendments", json=_amendment(world))
    assert again.status_code == 409 and code(again) == "LetterOfCreditAmendmentPending"
    wrong = api.post("exporter", f"{BASE}/{lc}/amendments/2/accept")
    assert wrong.status_code == 409 and code(wrong) == "LetterOfCreditAmendmentNotPending"
    assert _ok(api.post("exporter", f"{BASE}/{lc}/amendments/1/accept")) == {
        "lc_id": lc, "amendment_number": 1, "decision": "Accepted"}

    _ok(api.post("bank_us", f"{BASE}/{lc}/amendments", json=_amendment(world, amount=60_000_00)), 201)
    assert _ok(api.post("exporter", f"{BASE}/{lc}/amendments/2/reject"))["decision"] == "Rejected"
    none = api.post("exporter", f"{BASE}/{lc}/amendments/2/accept")
    assert none.status_code == 409 and code(none) == "LetterOfCreditNoPendingAmendment"


def test_an_amendment_below_what_is_committed_is_409(api, world):
    lc = _advised(api, world)
    _presented(api, world, lc)
    r = api.post("bank_us", f"{BASE}/{lc}/amendments", json=_amendment(world, amount=10_000_00))
    assert r.status_code == 409 and code(r) == "LetterOfCreditAmendmentBelowCommitted"


# ───────────────────────────── Cancellation and margin ─────────────────────────────

def test_a_confirmed_credit_is_cancelled_with_both_agreements_and_the_margin_goes_back(api, world):
    lc = _advised(api, world, margin=7_000_00, confirming_bank=world.roles["bank_cn"])
    requested = _ok(api.post("bank_us", f"{BASE}/{lc}/cancellation/request"))
    assert requested["event"] == "CancellationRequested" and requested["state"] is None
    early = api.post("exporter", f"{BASE}/{lc}/cancellation/consent")
    assert early.status_code == 409 and code(early) == "LetterOfCreditConfirmingBankAgreementMissing"
    not_confirmer = api.post("bank_us", f"{BASE}/{lc}/cancellation/agree")
    assert not_confirmer.status_code == 403 and code(not_confirmer) == "LetterOfCreditUnauthorizedCaller"
    assert _ok(api.post("bank_cn", f"{BASE}/{lc}/cancellation/agree"))["by"] == world.roles["bank_cn"]
    not_beneficiary = api.post("importer", f"{BASE}/{lc}/cancellation/consent")
    assert not_beneficiary.status_code == 403 and code(not_beneficiary) == "LetterOfCreditUnauthorizedCaller"

    applicant_before = _usd(api, "importer")
    cancelled = _ok(api.post("exporter", f"{BASE}/{lc}/cancellation/consent"))
    assert cancelled["state"] == "Cancelled" and cancelled["margin_released"] == 7_000_00
    assert _usd(api, "importer") == applicant_before + 7_000_00
    nothing = api.post("importer", f"{BASE}/{lc}/release-margin")
    assert nothing.status_code == 409 and code(nothing) == "LetterOfCreditNoMarginHeld"
    stranger = api.post("supplier1", f"{BASE}/{lc}/release-margin")  # not told why (issue 12)
    assert stranger.status_code == 403 and code(stranger) == "LetterOfCreditUnauthorizedCaller"


def test_consent_needs_a_request_and_no_open_presentation(api, world):
    lc = _advised(api, world)
    unrequested = api.post("exporter", f"{BASE}/{lc}/cancellation/consent")
    assert unrequested.status_code == 409 and code(unrequested) == "LetterOfCreditNoCancellationRequest"
    _presented(api, world, lc)
    _ok(api.post("bank_us", f"{BASE}/{lc}/cancellation/request"))
    r = api.post("exporter", f"{BASE}/{lc}/cancellation/consent")
    assert r.status_code == 409 and code(r) == "LetterOfCreditOpenPresentations"


def test_the_applicant_withdraws_and_the_issuing_bank_declines_applications(api, world):
    withdrawn = _apply(api, world)
    result = _ok(api.post("importer", f"{BASE}/{withdrawn}/cancel-application"))
    assert result == result | {"state": "Cancelled", "by": world.roles["importer"], "event": "ApplicationCancelled"}
    late = api.post("bank_us", f"{BASE}/{withdrawn}/issue", json={"margin_amount": 0})
    assert late.status_code == 409 and code(late) == "LetterOfCreditUnexpectedState"
    declined = _apply(api, world)
    assert _ok(api.post("bank_us", f"{BASE}/{declined}/cancel-application"))["by"] == world.roles["bank_us"]


def test_a_credit_frozen_by_the_regulator_refuses_every_step_until_unfrozen(api, world):
    lc = _advised(api, world)
    freeze = f"/v1/instruments/LetterOfCredit/{lc}"
    _ok(api.post("regulator", f"{freeze}/freeze", json={"reason": "SANCTIONS-HIT-2026-11"}))
    frozen = _present(api, world, lc)
    assert frozen.status_code == 409 and code(frozen) == "LetterOfCreditFrozen"
    _ok(api.post("regulator", f"{freeze}/unfreeze", json={"reason": "CLEARED"}))
    _ok(_present(api, world, lc), 201)


def test_issuing_with_a_margin_the_applicant_has_not_approved_is_409(api, world):
    lc = _ok(api.post("supplier1", BASE, json=_terms(world)), 201)["lc_id"]  # supplier1 approved nothing
    r = api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 1_000_00})
    assert r.status_code == 409 and code(r) == "ERC20InsufficientAllowance"
    assert _ok(api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 0}))["margin"] == 0


def test_a_margin_above_the_credit_amount_is_422(api, world):
    lc = _apply(api, world)
    r = api.post("bank_us", f"{BASE}/{lc}/issue", json={"margin_amount": 50_000_01})
    assert r.status_code == 422 and code(r) == "LetterOfCreditInvalidAmount"


# ───────────────────────────── Input errors ─────────────────────────────

def test_malformed_terms_are_422_from_the_contract(api, world):
    r = api.post("importer", BASE, json=_terms(world, latest_shipment_date=chain_now(world) + 90 * DAY))
    assert r.status_code == 422 and code(r) == "LetterOfCreditInvalidDates"
    r = api.post("importer", BASE, json=_terms(world, availability="DeferredPayment"))
    assert r.status_code == 422 and code(r) == "LetterOfCreditInvalidAvailability"


@pytest.mark.parametrize("overrides", [{"tolerance_percent": 11}, {"required_documents": []},
                                       {"required_documents": ["Passport"]}, {"currency": "usd"},
                                       {"required_documents": ["PackingList", "PackingList"]}])
def test_invalid_terms_are_422_with_field_reasons(api, world, overrides):
    r = api.post("importer", BASE, json=_terms(world, **overrides))
    assert r.status_code == 422 and code(r) == "ValidationError" and r.json()["error"]["details"]["fields"]


@pytest.mark.parametrize("overrides", [{"documents": []}, {"amount": 0}, {"invoice_id": str(2**256)},
                                       {"documents": [{"type": "Passport", "sha256": "0x" + "ab" * 32}]},
                                       {"documents": [{"type": "PackingList", "sha256": "0xab"}]}])
def test_invalid_presentations_are_422_with_field_reasons(api, world, overrides):
    r = _present(api, world, "1", **overrides)
    assert r.status_code == 422 and code(r) == "ValidationError" and r.json()["error"]["details"]["fields"]


def test_an_unknown_credit_is_403_as_for_a_non_party_and_an_unknown_presentation_404_to_its_party(api, world):
    r = api.post("bank_cn", f"{BASE}/999999/advise")  # no existence oracle (issue 12): as for any non-party
    assert r.status_code == 403 and code(r) == "LetterOfCreditUnauthorizedCaller"
    lc = _advised(api, world)
    r = _step(api, "bank_us", lc, "77", "examine", json={})
    assert r.status_code == 404 and code(r) == "LetterOfCreditNonexistentPresentation"


def test_writes_need_an_api_key(http):
    assert http.post(f"{BASE}/1/release-margin", headers={"Idempotency-Key": "k-no-auth"}).status_code == 401


def test_a_repeated_idempotency_key_answers_the_first_application(api, world):
    body = _terms(world)
    first = api.post("importer", BASE, key="lc-apply-once", json=body)
    again = api.post("importer", BASE, key="lc-apply-once", json=body)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()


# ───────────────────────────── Who may take each step ─────────────────────────────

@pytest.fixture(scope="module")
def credits(api, world, approvals):
    """One credit in each state the matrix needs, and a presentation in each state."""
    applied = _apply(api, world)
    issued = _apply(api, world)
    _ok(api.post("bank_us", f"{BASE}/{issued}/issue", json={"margin_amount": 0}))
    advised = _advised(api, world, partial_shipments_allowed=True)
    presented = _presented(api, world, advised, amount=10_000_00)
    discrepant = _presented(api, world, advised, amount=10_000_00, documents=_docs("CommercialInvoice"))
    _ok(_step(api, "bank_us", advised, discrepant, "examine", json={}))
    compliant = _presented(api, world, advised, amount=10_000_00)
    _ok(_step(api, "bank_us", advised, compliant, "examine", json={}))
    return {"applied": applied, "issued": issued, "advised": advised, "presented": presented,
            "discrepant": discrepant, "compliant": compliant}


def _matrix_request(api, world, credits, route: str, role: str) -> httpx.Response:
    c = credits
    presentation = {"examine": "presented", "waive": "discrepant", "refuse": "discrepant",
                    "honour": "compliant", "claim-preclusion": "presented", "pay": "presented"}
    if route == "apply":
        return api.post(role, BASE, json=_terms(world))
    if route in ("cancel-application", "issue"):
        return api.post(role, f"{BASE}/{c['applied']}/{route}", json={"margin_amount": 0})
    if route == "advise":
        return api.post(role, f"{BASE}/{c['issued']}/advise")
    if route == "amendments":
        return api.post(role, f"{BASE}/{c['advised']}/amendments", json=_amendment(world))
    if route in ("cancellation/request", "release-margin"):
        return api.post(role, f"{BASE}/{c['advised']}/{route}")
    if route == "presentations":
        return _present(api, world, c["advised"], role=role, amount=1_00)
    body = {"json": {}} if route == "examine" else {}
    return _step(api, role, c["advised"], c[presentation[route]], route, **body)


# (route, a caller of the wrong kind refused by the gateway, a caller of the right kind that is not the party)
MATRIX = [
    ("apply", "bank_us", None),
    ("cancel-application", "operator", "supplier1"),
    ("issue", "importer", "bank_cn"),
    ("advise", "exporter", "bank_us"),
    ("amendments", "exporter", "bank_cn"),
    ("cancellation/request", "importer", "bank_cn"),
    ("presentations", "bank_cn", "importer"),
    ("examine", "exporter", "bank_cn"),
    ("waive", "bank_us", "exporter"),
    ("refuse", "importer", "bank_cn"),
    ("honour", "exporter", "bank_cn"),
]


@pytest.mark.parametrize("route,wrong_kind,not_the_party", MATRIX, ids=[m[0] for m in MATRIX])
def test_only_the_right_party_may_take_the_step(api, world, credits, route, wrong_kind, not_the_party):
    refused = _matrix_request(api, world, credits, route, wrong_kind)
    assert refused.status_code == 403 and code(refused) == "CallerKindNotAllowed", refused.text
    for role in ("attester", "operator"):
        assert _matrix_request(api, world, credits, route, role).status_code == 403
    if not_the_party is not None:
        other = _matrix_request(api, world, credits, route, not_the_party)
        assert other.status_code == 403 and code(other) == "LetterOfCreditUnauthorizedCaller", other.text


@pytest.mark.parametrize("role", ["bank_us", "supplier1"])  # the regulator writes only supervision
def test_a_party_may_try_to_pay_or_release_and_the_contract_decides(api, world, credits, role):
    """Open to every participant on chain; the gateway takes the steps for the credit's parties only (bank_us
    issued it), who are told the contract's reasons: anyone else gets one 403 before anything is sent, as for a
    credit that does not exist (issue 12)."""
    early = _matrix_request(api, world, credits, "pay", role)
    open_credit = _matrix_request(api, world, credits, "release-margin", role)
    if role == "bank_us":
        assert early.status_code == 409 and code(early) == "LetterOfCreditUnexpectedPresentationState"
        assert open_credit.status_code == 409 and code(open_credit) == "LetterOfCreditUnexpectedState"
    else:
        for r in (early, open_credit):
            assert r.status_code == 403 and code(r) == "LetterOfCreditUnauthorizedCaller", r.text


def test_a_bank_cannot_claim_preclusion_as_the_beneficiary(api, world, credits):
    r = _matrix_request(api, world, credits, "claim-preclusion", "bank_us")
    assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"
    r = _matrix_request(api, world, credits, "claim-preclusion", "exporter")
    assert r.status_code == 409 and code(r) == "LetterOfCreditUnexpectedPresentationState"


def test_a_bank_cannot_answer_amendments_or_consent_for_the_beneficiary(api, world, credits):
    lc = credits["advised"]
    for path in ("amendments/1/accept", "amendments/1/reject", "cancellation/consent"):
        r = api.post("bank_cn", f"{BASE}/{lc}/{path}")
        assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"
    r = api.post("exporter", f"{BASE}/{lc}/cancellation/agree")
    assert r.status_code == 403 and code(r) == "CallerKindNotAllowed"


# ───────────────────────────── Preclusion (moves the clock: last) ─────────────────────────────

def test_after_five_banking_days_of_silence_the_beneficiary_claims_preclusion(api, world):
    lc = _advised(api, world)
    pid = _presented(api, world, lc)
    # Five banking days following the day of presentation; documents received on a Saturday or Sunday count as
    # received on the Monday (Art. 33), so the bank's time runs out at the latest 10 days after (whatever weekday
    # the shared chain's clock has reached by now).
    rpc(world, "evm_increaseTime", [11 * DAY])
    rpc(world, "evm_mine", [])
    not_the_beneficiary = _step(api, "importer", lc, pid, "claim-preclusion")
    assert not_the_beneficiary.status_code == 403 and code(not_the_beneficiary) == "LetterOfCreditUnauthorizedCaller"
    too_late = _step(api, "bank_us", lc, pid, "examine", json={})
    assert too_late.status_code == 409 and code(too_late) == "LetterOfCreditUnexpectedPresentationState"
    claimed = _ok(_step(api, "exporter", lc, pid, "claim-preclusion"))
    assert claimed["honoured_from"] == "Precluded" and claimed["state"] == "Paid"
    assert claimed["paid_amount"] == 50_000_00
