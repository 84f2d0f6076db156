"""Typed rows of the instruments: receivable financing, payable certificates (offered, then accepted or
declined) and letters of credit with a presentation that names its invoice."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from indexer_world import IndexerChain
from web3.logs import DISCARD

from app.services import index_queries as q


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("instruments")) as w:
        yield w


def test_financing_lifecycle_is_indexed_and_the_bank_becomes_a_party(world):
    financing = world.contracts["ReceivableFinancing"]
    invoices = world.contracts["InvoiceRegistry"]
    invoice = world.register_invoice("exporter", "importer", "USD", 50_000_00, "FIN-1")
    world.send("importer", invoices.functions.confirm(invoice))
    receipt = world.send("exporter", financing.functions.applyForFinancing(invoice, world.roles["bank_us"], 40_000_00))
    (applied,) = financing.events.FinancingApplied().process_receipt(receipt, errors=DISCARD)
    financing_id = applied["args"]["financingId"]
    world.send("bank_us", world.token("USD").functions.approve(financing.address, 2**255))
    world.send("bank_us", financing.functions.approve(financing_id, 38_000_00, 800, world.now() + 60 * 86400,
                                                      keccak(text="terms")))
    indexer = world.indexer()
    indexer.sync()
    bank = world.address("bank_us")
    detail = q.get_instrument(indexer.engine, bank, "financing", str(financing_id))
    assert detail["state"] == "Active" and detail["amount"] == 38_000_00 and detail["currency"] == "USD"
    assert {p["role"] for p in detail["parties"]} == {"seller", "bank", "buyer"}
    invoice_row = q.get_instrument(indexer.engine, bank, "invoice", str(invoice))
    assert invoice_row["state"] == "Financed" and invoice_row["details"]["lien_financier"] == bank
    trail = [e["event"] for e in q.audit_trail(indexer.engine, bank, "financing", str(financing_id))["events"]]
    assert trail == ["FinancingApplied", "FinancingApproved"]
    with pytest.raises(q.NotFound):
        q.get_instrument(indexer.engine, world.address("bank_cn"), "financing", str(financing_id))


def test_certificate_split_down_tiers_is_visible_to_each_holder_and_not_to_others(world):
    certificates = world.contracts["PayableCertificates"]
    invoices = world.contracts["InvoiceRegistry"]
    invoice = world.register_invoice("supplier1", "importer", "CNY", 90_000_00, "CERT-1")
    world.send("importer", invoices.functions.confirm(invoice))
    root = world.issue_certificate("importer", "supplier1", invoice, 90_000_00)
    receipt = world.send("supplier1", certificates.functions.split(root, [60_000_00, 30_000_00],
                                                                 [world.roles["supplier1"], world.roles["supplier2"]]))
    children = [e["args"]["certificateId"] for e in certificates.events.CertificateCreated().process_receipt(receipt, errors=DISCARD)]
    world.send("supplier2", certificates.functions.transfer(children[1], world.roles["supplier3"]))
    indexer = world.indexer()
    indexer.sync()
    engine = indexer.engine
    assert q.get_instrument(engine, world.address("importer"), "certificate", str(root))["state"] == "Split"
    third_tier = q.get_instrument(engine, world.address("supplier3"), "certificate", str(children[1]))
    assert third_tier["details"]["holder"] == world.address("supplier3")
    assert third_tier["details"]["parent_id"] == str(root) and third_tier["amount"] == 30_000_00
    mine = q.list_instruments(engine, world.address("supplier3"), "certificate", q.InstrumentFilter())
    assert [i["id"] for i in mine["items"]] == [str(children[1])]
    with pytest.raises(q.NotFound):
        q.get_instrument(engine, world.address("exporter"), "certificate", str(children[0]))
    amounts = [q.get_instrument(engine, world.address("regulator"), "certificate", str(c))["amount"] for c in children]
    assert sum(amounts) == 90_000_00


def test_offered_then_accepted_certificate_is_issued_with_the_offer_in_its_trail(world):
    certificates = world.contracts["PayableCertificates"]
    invoices = world.contracts["InvoiceRegistry"]
    invoice = world.register_invoice("supplier2", "importer", "USD", 30_000_00, "OFFER-1")
    world.send("importer", invoices.functions.confirm(invoice))
    maturity = world.now() + 45 * 86400
    world.send("importer", certificates.functions.offer(invoice, 25_000_00, maturity))
    indexer = world.indexer()
    indexer.sync()
    engine, seller, buyer = indexer.engine, world.address("supplier2"), world.address("importer")
    offered = q.get_instrument(engine, seller, "invoice", str(invoice))
    assert offered["state"] == "Confirmed", "an offer pledges nothing"
    offer = offered["details"]["certificate_offer"]
    assert (offer["issuer"], offer["seller"], offer["amount"], offer["maturity"]) == (buyer, seller, 25_000_00, maturity)
    everything = q.list_instruments(engine, world.address("regulator"), "certificate", q.InstrumentFilter(limit=200))
    assert str(invoice) not in [c["details"]["invoice_id"] for c in everything["items"]]

    receipt = world.send("supplier2", certificates.functions.acceptOffer(invoice))
    (issued,) = certificates.events.CertificateIssued().process_receipt(receipt, errors=DISCARD)
    root = issued["args"]["certificateId"]
    indexer.sync()
    certificate = q.get_instrument(engine, buyer, "certificate", str(root))
    assert (certificate["state"], certificate["amount"], certificate["due_at"]) == ("Active", 25_000_00, maturity)
    assert certificate["details"]["holder"] == seller and certificate["details"]["issuer"] == buyer
    assert certificate["details"]["offered_at"] == offer["offered_at"] <= certificate["details"]["accepted_at"]
    assert {(p["participant"], p["role"]) for p in certificate["parties"]} == {(seller, "holder"), (buyer, "issuer")}
    trail = q.audit_trail(engine, seller, "certificate", str(root))["events"]
    assert [e["event"] for e in trail] == ["CertificateOffered", "CertificateIssued"]
    assert trail[0]["actor"] == buyer and trail[1]["actor"] == seller
    financed = q.get_instrument(engine, seller, "invoice", str(invoice))
    assert financed["state"] == "Financed" and financed["details"]["lien_financier"] == seller
    assert financed["details"]["certificate_offer"] is None
    assert financed["details"]["certificate_root_id"] == str(root)
    invoice_trail = [e["event"] for e in q.audit_trail(engine, buyer, "invoice", str(invoice))["events"]]
    assert invoice_trail[-3:] == ["CertificateOffered", "CertificateIssued", "LienTaken"]


@pytest.mark.parametrize("closer", ["seller", "buyer"])
def test_a_declined_or_withdrawn_offer_leaves_the_invoice_free(world, closer):
    certificates = world.contracts["PayableCertificates"]
    invoices = world.contracts["InvoiceRegistry"]
    invoice = world.register_invoice("supplier3", "importer", "EUR", 12_000_00, f"OFFER-CLOSED-{closer}")
    world.send("importer", invoices.functions.confirm(invoice))
    world.send("importer", certificates.functions.offer(invoice, 12_000_00, world.now() + 30 * 86400))
    if closer == "seller":
        world.send("supplier3", certificates.functions.declineOffer(invoice))
    else:
        world.send("importer", certificates.functions.withdrawOffer(invoice))
    indexer = world.indexer()
    indexer.sync()
    row = q.get_instrument(indexer.engine, world.address("supplier3"), "invoice", str(invoice))
    assert row["state"] == "Confirmed" and row["details"]["certificate_offer"] is None
    closed = row["details"]["certificate_offer_closed"]
    assert closed["closed_by"] == world.address("supplier3" if closer == "seller" else "importer")
    assert closed["amount"] == 12_000_00
    trail = [e["event"] for e in q.audit_trail(indexer.engine, world.address("importer"), "invoice", str(invoice))["events"]]
    assert trail[-2:] == ["CertificateOffered", "CertificateOfferClosed"]


def test_letter_of_credit_and_its_presentation_are_indexed_for_their_parties(world):
    letters = world.contracts["LetterOfCredit"]
    now = world.now()
    zero = "0x" + "00" * 20
    terms = (world.roles["exporter"], world.roles["bank_us"], world.roles["bank_cn"], zero,
             world.token("USD").address, 100_000_00, 0, now + 60 * 86400, now + 30 * 86400, 0, False, 0, 0, 0b11)
    receipt = world.send("importer", letters.functions.applyForCredit(terms))
    (applied,) = letters.events.CreditApplied().process_receipt(receipt, errors=DISCARD)
    lc_id = applied["args"]["lcId"]
    world.send("bank_us", letters.functions.issue(lc_id, 0))
    world.send("bank_cn", letters.functions.advise(lc_id))
    invoice = world.register_invoice("exporter", "importer", "USD", 100_000_00, "LC-INV-1")
    invoice_doc, transport_doc = keccak(text="lc-invoice"), keccak(text="lc-bill-of-lading")
    receipt = world.send("exporter", letters.functions.presentWithInvoice(
        lc_id, [(0, invoice_doc), (1, transport_doc)], now, 100_000_00, invoice))
    (presented,) = letters.events.DocumentsPresented().process_receipt(receipt, errors=DISCARD)
    presentation = f"{lc_id}-{presented['args']['presentationId']}"
    world.send("bank_us", letters.functions.examine(lc_id, presented["args"]["presentationId"], 0))
    indexer = world.indexer()
    indexer.sync()
    engine = indexer.engine
    credit = q.get_instrument(engine, world.address("exporter"), "letter_of_credit", str(lc_id))
    assert credit["state"] == "Advised" and credit["amount"] == 100_000_00 and credit["currency"] == "USD"
    assert credit["details"]["beneficiary"] == world.address("exporter")
    assert {p["role"] for p in credit["parties"]} == {"applicant", "beneficiary", "issuing_bank", "advising_bank"}
    detail = q.get_instrument(engine, world.address("importer"), "presentation", presentation)
    assert detail["state"] == "Compliant" and detail["details"]["invoice_id"] == str(invoice)
    assert [d["type"] for d in detail["details"]["documents"]] == ["CommercialInvoice", "TransportDocument"]
    # The presentation's invoice is reserved for the issuing bank, and names the presentation.
    reserved = q.get_instrument(engine, world.address("bank_us"), "invoice", str(invoice))
    assert reserved["state"] == "Financed" and reserved["details"]["lien_financier"] == world.address("bank_us")
    assert reserved["details"]["lien_instrument"] == letters.address
    assert reserved["details"]["presentation"] == presentation
    invoice_trail = [e["event"] for e in q.audit_trail(engine, world.address("exporter"), "invoice", str(invoice))["events"]]
    assert invoice_trail[-2:] == ["PresentationInvoiceLinked", "LienTaken"]
    anchored = q.verify_document(engine, world.address("bank_cn"), "0x" + invoice_doc.hex())
    assert [a["uid"] for a in anchored["anchors"]] == [f"presentation:{presentation}"]
    with pytest.raises(q.NotFound):
        q.get_instrument(engine, world.address("supplier1"), "presentation", presentation)
    trail = [e["event"] for e in q.audit_trail(engine, world.address("bank_us"), "letter_of_credit", str(lc_id))["events"]]
    assert trail == ["CreditApplied", "CreditIssued", "CreditAdvised", "DocumentsPresented",
                     "PresentationInvoiceLinked", "PresentationExamined"]


def test_a_request_relayed_through_the_forwarder_is_the_signers_in_the_trail(world):
    invoices = world.contracts["InvoiceRegistry"]
    invoice = world.register_invoice("supplier3", "importer", "USD", 3_000_00, "RELAYED-1")
    receipt = world.relay("importer", "operator", invoices.functions.confirm(invoice))  # the operator relays
    assert receipt["from"] == world.roles["operator"]
    indexer = world.indexer()
    indexer.sync()
    trail = q.audit_trail(indexer.engine, world.address("importer"), "invoice", str(invoice))["events"]
    confirmed = next(e for e in trail if e["event"] == "InvoiceConfirmed")
    assert confirmed["actor"] == world.address("importer") and confirmed["args"]["buyer"] == world.address("importer")
    assert confirmed["tx_hash"] == receipt["transactionHash"].to_0x_hex()
    assert q.get_instrument(indexer.engine, world.address("importer"), "invoice", str(invoice))["state"] == "Confirmed"
