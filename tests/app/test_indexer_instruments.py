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
