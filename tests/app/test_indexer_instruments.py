"""Typed rows of the instruments merged so far: receivable financing and payable certificates."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from web3.logs import DISCARD

from app.services import index_queries as q
from indexer_world import IndexerChain


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("instruments")) as w:
        if "PayableCertificates" not in w.contracts or "ReceivableFinancing" not in w.contracts:
            pytest.skip("financing and certificates are not compiled in this build")
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
    receipt = world.send("importer", certificates.functions.issue(invoice, 90_000_00, world.now() + 90 * 86400))
    (issued,) = certificates.events.CertificateIssued().process_receipt(receipt, errors=DISCARD)
    root = issued["args"]["certificateId"]
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


def test_letter_of_credit_and_its_presentation_are_indexed_for_their_parties(world):
    if "LetterOfCredit" not in world.contracts:
        pytest.skip("LetterOfCredit is not compiled in this build")
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
    invoice_doc, transport_doc = keccak(text="lc-invoice"), keccak(text="lc-bill-of-lading")
    receipt = world.send("exporter", letters.functions.present(lc_id, [(0, invoice_doc), (1, transport_doc)], now,
                                                               100_000_00))
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
    assert detail["state"] == "Compliant"
    assert [d["type"] for d in detail["details"]["documents"]] == ["CommercialInvoice", "TransportDocument"]
    anchored = q.verify_document(engine, world.address("bank_cn"), "0x" + invoice_doc.hex())
    assert [a["uid"] for a in anchored["anchors"]] == [f"presentation:{presentation}"]
    with pytest.raises(q.NotFound):
        q.get_instrument(engine, world.address("supplier1"), "presentation", presentation)
    trail = [e["event"] for e in q.audit_trail(engine, world.address("bank_us"), "letter_of_credit", str(lc_id))["events"]]
    assert trail == ["CreditApplied", "CreditIssued", "CreditAdvised", "DocumentsPresented", "PresentationExamined"]
