"""ERC-721 `Transfer`/`Approval` are decoded by the contract that emitted them (issue 12: they were decoded
with the ERC-20 layout, because topics were looked up globally).

An invoice (ERC-721) and a settlement token (ERC-20) share the `Transfer` topic-0; the invoice's token id is
an indexed topic, the token's amount is data. Replayed through the real gateway, indexer and Anvil: an
invoice's mint and a certificate transfer appear in the audit trails with token ids, never as ERC-20
amounts, and the chain client's decoder (`ContractEvents`, shared with the indexer) reads a real receipt
holding both kinds of `Transfer` each with its own layout.
"""

from __future__ import annotations

from pathlib import Path

from eth_utils import keccak
from instrument_helpers import approve_spender, invoice, issued_certificate, rpc, wait_for

from app.chain.abi import AbiRegistry, ContractEvents, Deployment

ROOT = Path(__file__).resolve().parents[2]
ZERO = "0x0000000000000000000000000000000000000000"
TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()


def _trail(api, role: str, kind: str, instrument_id: str, event: str) -> list[dict]:
    r = wait_for(lambda: api.get(role, f"/v1/instruments/{kind}/{instrument_id}/trail"),
                  lambda r: r.status_code == 200 and any(e["event"] == event for e in r.json()["events"]))
    assert r.status_code == 200, r.text
    return [e for e in r.json()["events"] if e["event"] == event]


def test_an_invoice_transfer_is_in_the_trail_with_its_token_id_not_an_erc20_amount(api, world):
    invoice_id = invoice(api, world)
    (minted,) = _trail(api, "exporter", "invoice", invoice_id, "Transfer")
    assert minted["contract"] == "InvoiceRegistry"
    assert minted["args"] == {"from": ZERO, "to": world.roles["exporter"], "tokenId": invoice_id}, minted
    assert "value" not in minted["args"]


def test_a_certificate_transfer_is_in_the_trail_with_its_certificate_id(api, world):
    for role in ("importer", "bank_cn"):
        approve_spender(api, role, "PayableCertificates")
    invoice_id = invoice(api, world)
    certificate_id = issued_certificate(api, world, invoice_id, 5_000_00, 30 * 86_400)
    moved = api.post("exporter", f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier1"]})
    assert moved.status_code == 200, moved.text
    (transferred,) = _trail(api, "supplier1", "certificate", str(certificate_id), "CertificateTransferred")
    assert str(transferred["args"]["certificateId"]) == str(certificate_id)
    assert transferred["args"]["to"] == world.roles["supplier1"]
    assert "value" not in transferred["args"] and "tokenId" not in transferred["args"]


def test_the_shared_decoder_reads_erc721_and_erc20_transfers_of_one_receipt_by_their_contract(api, world):
    """A buyer's payment of an invoice moves ERC-20 tokens; its registration mints an ERC-721 token: both
    logs carry topic-0 `Transfer`, each decodes with its own contract's layout."""
    approve_spender(api, "importer", "InvoiceRegistry")
    invoice_id = invoice(api, world)
    paid = api.post("importer", f"/v1/invoices/{invoice_id}/payments", json={"amount": 1_00})
    assert paid.status_code == 200, paid.text
    registered = _trail(api, "exporter", "invoice", invoice_id, "Transfer")[0]["tx_hash"]

    events = ContractEvents(AbiRegistry.from_build(ROOT / ".build" / "__local__.json"),
                            Deployment.load(world.data_dir / "deployments" / f"{world.chain_id}.json"))
    mint_logs = [lg for lg in rpc(world, "eth_getTransactionReceipt", [registered])["logs"] if lg["topics"][0] == TRANSFER]
    pay_logs = [lg for lg in rpc(world, "eth_getTransactionReceipt", [paid.json()["tx_hash"]])["logs"]
                if lg["topics"][0] == TRANSFER]
    assert mint_logs and pay_logs
    (mint,) = [events.decode_log(lg) for lg in mint_logs]
    assert mint is not None and mint.contract == "InvoiceRegistry" and mint.name == "Transfer"
    assert mint.args == {"from": ZERO, "to": world.roles["exporter"], "tokenId": int(invoice_id)}
    for lg in pay_logs:
        decoded = events.decode_log(lg)
        assert decoded is not None and decoded.contract == "SettlementTokenUSD", decoded
        assert set(decoded.args) == {"from", "to", "value"} and isinstance(decoded.args["value"], int)
