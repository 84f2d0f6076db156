"""Payable certificates through the gateway: the buyer offers against a confirmed invoice and the seller accepts
(or declines; the buyer may withdraw), transfer, split, discount (request, cancel, accept), settle at maturity,
record a tree's default, and who may call what."""

from __future__ import annotations

import pytest
from instrument_helpers import advance, approve_spender, chain_now, code, invoice, usd, wait_for


@pytest.fixture(scope="module")
def allowances(api):
    """The core enterprise (importer) settles and banks discount through PayableCertificates."""
    for role in ("importer", "bank_cn"):
        approve_spender(api, role, "PayableCertificates")


def _offer(api, world, invoice_id, amount=10_000_00, maturity_in=30 * 86_400, role="importer"):
    return api.post(role, "/v1/certificates/offers", json={"invoice_id": invoice_id, "amount": amount,
                                                           "maturity": chain_now(world) + maturity_in})


def _accept(api, invoice_id, role="exporter"):
    return api.post(role, f"/v1/certificates/offers/{invoice_id}/accept")


def _issue(api, world, invoice_id, amount=10_000_00, maturity_in=30 * 86_400, role="importer"):
    """The buyer's offer, then the seller's acceptance: the answer of the first step that fails, else the issue."""
    offered = _offer(api, world, invoice_id, amount, maturity_in, role)
    return offered if offered.status_code != 201 else _accept(api, invoice_id)


def _issued(api, world, amount=10_000_00, maturity_in=30 * 86_400) -> tuple[str, int]:
    invoice_id = invoice(api, world)
    r = _issue(api, world, invoice_id, amount, maturity_in)
    assert r.status_code == 201, r.text
    return invoice_id, r.json()["result"]["certificate_id"]


def _split(api, world, certificate_id, parts, role="exporter"):
    return api.post(role, f"/v1/certificates/{certificate_id}/split",
                    json={"parts": [{"holder": world.roles[h], "amount": a} for h, a in parts]})


# ───────────────────────────── offer and issue ─────────────────────────────

def test_the_buyer_offers_the_seller_accepts_and_the_covered_part_is_paid_only_through_the_tree(api, world, allowances):
    invoice_id = invoice(api, world)
    offered = _offer(api, world, invoice_id, amount=6_000_00)
    assert offered.status_code == 201, offered.text
    offer = offered.json()["result"]
    assert offer | {"maturity": 0} == {"invoice_id": invoice_id, "issuer": world.roles["importer"],
                                       "seller": world.roles["exporter"], "amount": 6_000_00, "maturity": 0}
    r = _accept(api, invoice_id)
    assert r.status_code == 201, r.text
    issued = r.json()["result"]
    assert issued["invoice_id"] == invoice_id and issued["issuer"] == world.roles["importer"]
    assert issued["holder"] == world.roles["exporter"] and issued["amount"] == 6_000_00
    assert issued["maturity"] == offer["maturity"]
    approve_spender(api, "importer", "InvoiceRegistry")
    direct = api.post("importer", f"/v1/invoices/{invoice_id}/payments", json={"amount": 4_000_01})
    assert direct.status_code == 409 and code(direct) == "PayableCertificatesPayThroughCertificates"
    assert direct.json()["error"]["details"]["payableDirectly"] == 4_000_00
    uncovered = api.post("importer", f"/v1/invoices/{invoice_id}/payments", json={"amount": 4_000_00})
    assert uncovered.status_code == 200, uncovered.text
    assert uncovered.json()["result"]["to_seller"] == 4_000_00, "the part the tree does not cover goes to the seller"


def test_nothing_is_pledged_until_the_seller_accepts(api, world, allowances):
    invoice_id = invoice(api, world)
    assert _offer(api, world, invoice_id).status_code == 201
    pending = _offer(api, world, invoice_id)
    assert pending.status_code == 409 and code(pending) == "PayableCertificatesOfferPending"
    # The offer reserves nothing: the seller may still finance the invoice elsewhere, which ends the offer's chances.
    approve_spender(api, "bank_cn", "ReceivableFinancing")
    applied = api.post("exporter", "/v1/financings", json={"invoice_id": invoice_id, "bank": world.roles["bank_cn"],
                                                           "requested_amount": 1_000_00})
    assert applied.status_code == 201, applied.text
    financed = api.post("bank_cn", f"/v1/financings/{applied.json()['result']['financing_id']}/approve", json={
        "advance_amount": 1_000_00, "rate_bps": 0, "maturity": chain_now(world) + 86_400,
        "terms_hash": "0x" + "cd" * 32})
    assert financed.status_code == 200, financed.text
    late = _accept(api, invoice_id)
    assert late.status_code == 409 and code(late) == "PayableCertificatesInvoiceNotConfirmed"
    assert late.json()["error"]["details"]["state"] == "Financed"


def test_the_seller_declines_and_the_buyer_withdraws_an_offer(api, world, allowances):
    declined_invoice = invoice(api, world)
    assert _offer(api, world, declined_invoice).status_code == 201
    for role, error in (("importer", "PayableCertificatesNotInvoiceSeller"),
                        ("supplier1", "PayableCertificatesNotInvoiceSeller"), ("bank_cn", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/certificates/offers/{declined_invoice}/decline")
        assert r.status_code == 403 and code(r) == error, r.text
    declined = api.post("exporter", f"/v1/certificates/offers/{declined_invoice}/decline")
    assert declined.status_code == 200, declined.text
    assert declined.json()["result"] == {"invoice_id": declined_invoice, "by": world.roles["exporter"],
                                         "outcome": "Declined"}
    gone = _accept(api, declined_invoice)
    assert gone.status_code == 409 and code(gone) == "PayableCertificatesNoOffer"

    withdrawn_invoice = invoice(api, world)
    assert _offer(api, world, withdrawn_invoice).status_code == 201
    stranger = api.post("exporter", f"/v1/certificates/offers/{withdrawn_invoice}/withdraw")
    assert stranger.status_code == 403 and code(stranger) == "PayableCertificatesNotInvoiceBuyer"
    withdrawn = api.post("importer", f"/v1/certificates/offers/{withdrawn_invoice}/withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["result"]["outcome"] == "Withdrawn"
    assert withdrawn.json()["result"]["by"] == world.roles["importer"]
    again = api.post("importer", f"/v1/certificates/offers/{withdrawn_invoice}/withdraw")
    assert again.status_code == 409 and code(again) == "PayableCertificatesNoOffer"
    # A new offer may follow a closed one.
    assert _issue(api, world, withdrawn_invoice).status_code == 201


@pytest.mark.parametrize("role,error", [
    ("exporter", "PayableCertificatesNotInvoiceBuyer"),
    ("supplier1", "PayableCertificatesNotInvoiceBuyer"),
    ("bank_cn", "CallerKindNotAllowed"),
    ("attester", "CallerKindNotAllowed"),
])
def test_only_the_invoice_buyer_offers(api, world, allowances, role, error):
    r = _offer(api, world, invoice(api, world), role=role)
    assert r.status_code == 403 and code(r) == error


@pytest.mark.parametrize("role,error", [
    ("importer", "PayableCertificatesNotInvoiceSeller"),
    ("supplier1", "PayableCertificatesNotInvoiceSeller"),
    ("bank_cn", "CallerKindNotAllowed"),
])
def test_only_the_invoice_seller_accepts(api, world, allowances, role, error):
    invoice_id = invoice(api, world)
    assert _offer(api, world, invoice_id).status_code == 201
    r = _accept(api, invoice_id, role=role)
    assert r.status_code == 403 and code(r) == error


def test_offers_are_checked_against_the_invoice(api, world, allowances):
    unconfirmed = _offer(api, world, invoice(api, world, confirm=False))
    assert unconfirmed.status_code == 409 and code(unconfirmed) == "PayableCertificatesInvoiceNotConfirmed"
    assert unconfirmed.json()["error"]["details"]["state"] == "Registered"
    above = _offer(api, world, invoice(api, world), amount=10_000_01)
    assert above.status_code == 409 and code(above) == "PayableCertificatesAmountExceedsInvoice"
    past = _offer(api, world, invoice(api, world), maturity_in=-10)
    assert past.status_code == 422 and code(past) == "PayableCertificatesInvalidMaturity"
    after_due = _offer(api, world, invoice(api, world, due_in=30 * 86_400), maturity_in=31 * 86_400)
    assert after_due.status_code == 409 and code(after_due) == "PayableCertificatesMaturityAfterDueDate"
    no_offer = _accept(api, invoice(api, world))
    assert no_offer.status_code == 409 and code(no_offer) == "PayableCertificatesNoOffer"


# ───────────────────────────── transfer and split ─────────────────────────────

def test_the_holder_transfers_and_only_the_holder(api, world, allowances):
    _, certificate_id = _issued(api, world)
    for role, error in (("supplier2", "PayableCertificatesNotHolder"), ("importer", "PayableCertificatesNotHolder"),
                        ("attester", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier2"]})
        assert r.status_code == 403 and code(r) == error
    r = api.post("exporter", f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier1"]})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == {"certificate_id": certificate_id, "from": world.roles["exporter"],
                                  "to": world.roles["supplier1"]}


def test_a_certificate_splits_down_tiers_and_the_children_sum_to_the_parent(api, world, allowances):
    _, root = _issued(api, world)
    r = _split(api, world, root, [("supplier1", 6_000_00), ("exporter", 4_000_00)])
    assert r.status_code == 200, r.text
    split = r.json()["result"]
    assert split["parent_id"] == root and split["root_id"] == root
    (tier1, kept) = split["children"]
    assert (tier1["holder"], tier1["amount"]) == (world.roles["supplier1"], 6_000_00)
    assert kept["certificate_id"] == tier1["certificate_id"] + 1
    tier2 = _split(api, world, tier1["certificate_id"], [("supplier2", 1_000_00), ("supplier3", 5_000_00)],
                   role="supplier1")
    assert tier2.status_code == 200 and tier2.json()["result"]["root_id"] == root
    again = _split(api, world, root, [("supplier1", 5_000_00), ("exporter", 5_000_00)])
    assert again.status_code == 409 and code(again) == "PayableCertificatesUnexpectedState"


def test_a_split_must_sum_to_the_parent_and_is_made_by_its_holder(api, world, allowances):
    _, root = _issued(api, world)
    wrong_sum = _split(api, world, root, [("supplier1", 6_000_00), ("exporter", 3_999_99)])
    assert wrong_sum.status_code == 422 and code(wrong_sum) == "PayableCertificatesSplitSumMismatch"
    stranger = _split(api, world, root, [("supplier1", 6_000_00), ("exporter", 4_000_00)], role="supplier1")
    assert stranger.status_code == 403 and code(stranger) == "PayableCertificatesNotHolder"
    one_part = api.post("exporter", f"/v1/certificates/{root}/split",
                        json={"parts": [{"holder": world.roles["supplier1"], "amount": 10_000_00}]})
    assert one_part.status_code == 422 and code(one_part) == "ValidationError"


# ───────────────────────────── discount ─────────────────────────────

def test_a_holder_asks_a_bank_to_discount_and_the_bank_pays_the_proceeds(api, world, allowances):
    _, certificate_id = _issued(api, world)
    r = api.post("exporter", f"/v1/certificates/{certificate_id}/discount-request",
                 json={"bank": world.roles["bank_cn"], "rate_bps": 500})
    assert r.status_code == 200 and r.json()["result"]["rate_bps"] == 500
    other_bank = api.post("bank_us", f"/v1/certificates/{certificate_id}/discount", json={"rate_bps": 500})
    assert other_bank.status_code == 403 and code(other_bank) == "PayableCertificatesNotRequestedBank"
    other_rate = api.post("bank_cn", f"/v1/certificates/{certificate_id}/discount", json={"rate_bps": 400})
    assert other_rate.status_code == 409 and code(other_rate) == "PayableCertificatesDiscountRateMismatch"
    corporate = api.post("supplier1", f"/v1/certificates/{certificate_id}/discount", json={"rate_bps": 500})
    assert corporate.status_code == 403 and code(corporate) == "CallerKindNotAllowed"
    before = usd(api, "exporter")
    done = api.post("bank_cn", f"/v1/certificates/{certificate_id}/discount", json={"rate_bps": 500})
    assert done.status_code == 200, done.text
    result = done.json()["result"]
    days = result["days_to_maturity"]
    assert days in (30, 31)
    discount = -(-10_000_00 * 500 * days // (10_000 * 365))
    assert result["proceeds"] == 10_000_00 - discount and result["bank"] == world.roles["bank_cn"]
    assert usd(api, "exporter") == before + result["proceeds"]
    moved = api.post("exporter", f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier1"]})
    assert moved.status_code == 403 and code(moved) == "PayableCertificatesNotHolder"


def test_the_holder_cancels_its_discount_request(api, world, allowances):
    _, certificate_id = _issued(api, world)
    api.post("exporter", f"/v1/certificates/{certificate_id}/discount-request",
             json={"bank": world.roles["bank_cn"], "rate_bps": 500})
    stranger = api.post("supplier1", f"/v1/certificates/{certificate_id}/discount-request/cancel")
    # requests are kept per holder: a stranger has none to cancel
    assert stranger.status_code == 409 and code(stranger) == "PayableCertificatesNoDiscountRequest"
    banker = api.post("attester", f"/v1/certificates/{certificate_id}/discount-request/cancel")
    assert banker.status_code == 403 and code(banker) == "CallerKindNotAllowed"
    r = api.post("exporter", f"/v1/certificates/{certificate_id}/discount-request/cancel")
    assert r.status_code == 200 and r.json()["result"]["bank"] == world.roles["bank_cn"]
    gone = api.post("bank_cn", f"/v1/certificates/{certificate_id}/discount", json={"rate_bps": 500})
    assert gone.status_code == 403 and code(gone) == "PayableCertificatesNotRequestedBank"


def test_only_holders_request_discounts(api, world, allowances):
    _, certificate_id = _issued(api, world)
    for role, error in (("supplier1", "PayableCertificatesNotHolder"), ("attester", "CallerKindNotAllowed")):
        r = api.post(role, f"/v1/certificates/{certificate_id}/discount-request",
                     json={"bank": world.roles["bank_cn"], "rate_bps": 500})
        assert r.status_code == 403 and code(r) == error


# ───────────────────────────── settlement and default ─────────────────────────────

def test_the_core_enterprise_settles_every_piece_at_maturity_and_the_tree_is_paid(api, world, allowances):
    invoice_id, root = _issued(api, world, amount=5_000_00, maturity_in=3_600)
    children = _split(api, world, root, [("supplier1", 3_000_00), ("supplier2", 2_000_00)]).json()["result"]
    ids = [c["certificate_id"] for c in children["children"]]
    early = api.post("importer", "/v1/certificates/settle", json={"certificate_ids": ids})
    assert early.status_code == 409 and code(early) == "PayableCertificatesUnexpectedState"
    advance(world, 3_601)
    stranger = api.post("supplier3", "/v1/certificates/settle", json={"certificate_ids": ids})
    assert stranger.status_code == 403 and code(stranger) == "PayableCertificatesNotSettlementParty"
    bank = api.post("attester", "/v1/certificates/settle", json={"certificate_ids": ids})
    assert bank.status_code == 403 and code(bank) == "CallerKindNotAllowed"
    before = usd(api, "supplier1")
    first = api.post("supplier1", "/v1/certificates/settle", json={"certificate_ids": ids[:1]})
    assert first.status_code == 200, first.text
    assert first.json()["result"] == {"settled": [{"certificate_id": ids[0], "root_id": root,
                                                   "holder": world.roles["supplier1"], "amount": 3_000_00}],
                                      "trees_paid": []}
    assert usd(api, "supplier1") == before + 3_000_00
    twice = api.post("importer", "/v1/certificates/settle", json={"certificate_ids": ids[:1]})
    assert twice.status_code == 409 and code(twice) == "PayableCertificatesUnexpectedState"
    rest = api.post("importer", "/v1/certificates/settle", json={"certificate_ids": ids[1:]})
    assert rest.status_code == 200, rest.text
    assert rest.json()["result"]["trees_paid"] == [{"root_id": root, "invoice_id": invoice_id, "amount": 5_000_00}]


def test_a_party_of_the_tree_records_its_default_unpaid_after_maturity_and_grace(api, world, allowances):
    """`recordDefault` stays open to anyone on chain; the gateway records it for a party of the tree only. A
    stranger was answered 200 with the tree's invoice and outstanding amount once the tree was in default (issue
    12): it is now refused before anything is sent, before and after maturity alike."""
    _, root = _issued(api, world, amount=4_000_00, maturity_in=60)
    early = api.post("exporter", f"/v1/certificates/{root}/default")  # the holder is told why
    assert early.status_code == 409 and code(early) == "PayableCertificatesUnexpectedState"
    stranger = api.post("supplier1", f"/v1/certificates/{root}/default")  # anyone else: not why (issue 12)
    assert stranger.status_code == 403 and code(stranger) == "PayableCertificatesNotTreeParty"
    advance(world, 60 + 30 * 86_400 + 1)  # maturity plus the certificates' grace period
    stranger_after = api.post("supplier1", f"/v1/certificates/{root}/default")
    assert stranger_after.status_code == 403 and stranger_after.json() == stranger.json()
    r = api.post("exporter", f"/v1/certificates/{root}/default")  # the holder records it
    assert r.status_code == 200, r.text
    assert r.json()["result"]["root_id"] == root and r.json()["result"]["outstanding"] == 4_000_00
    again = api.post("importer", f"/v1/certificates/{root}/default")
    assert again.status_code == 409 and code(again) == "PayableCertificatesDefaultAlreadyRecorded"
    assert code(api.post("bank_us", f"/v1/certificates/{root}/default")) == "PayableCertificatesNotTreeParty"
    late = api.post("importer", "/v1/certificates/settle", json={"certificate_ids": [root]})
    assert late.status_code == 200 and late.json()["result"]["trees_paid"][0]["root_id"] == root
    # Settling a root names it twice in one event (certificateId and rootId): the index still follows.
    indexed = wait_for(lambda: api.get("importer", f"/v1/instruments/certificate/{root}"),
                        lambda r: r.status_code == 200 and r.json()["state"] == "Settled")
    assert indexed.status_code == 200 and indexed.json()["state"] == "Settled"
