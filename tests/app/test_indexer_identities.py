"""Participants as the registry now keeps them: instrument contracts registered as participants, KYC per bank
(each bank's own attestation, the identity valid until the latest approval, the regulator's revocation), and
further wallets of one legal identity linked by the operator (same KYC and freeze, same instruments). Every
typed row is checked against what the registry answers, and the new events are safe to read again and to
reorganise away."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from indexer_helpers import dump
from indexer_world import IndexerChain
from sqlalchemy import select
from web3.logs import DISCARD

from app.core.enums import KycStatus
from app.db.index_models import ContractParameter, Identity, IndexCheckpoint, KycAttestation, Participant
from app.services import index_queries as q
from scripts._common import INSTRUMENT_CONTRACTS

YEAR = 365 * 86400


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with IndexerChain.start(tmp_path_factory.mktemp("identities"), accounts=14) as w:
        yield w


def spare(world, n: int) -> str:
    """A dev account no role uses (the world's roles take the first ten)."""
    return world.w3.eth.accounts[10 + n]


def participant(engine, address: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(Participant.__table__).where(Participant.address == address)).mappings().one())


def attestations(engine, identity_hash: str) -> dict[str, tuple[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(select(KycAttestation.bank, KycAttestation.status, KycAttestation.expiry)
                            .where(KycAttestation.identity_hash == identity_hash)).all()
    return {bank: (status, expiry) for bank, status, expiry in rows}


def assert_kyc_matches_the_registry(world, engine, account: str) -> dict:
    """The wallet's row and its identity's attestations say what the registry says."""
    registry = world.contracts["ParticipantRegistry"]
    row = participant(engine, account)
    on_chain = registry.functions.participant(account).call()  # (kind, jurisdiction, frozen, roles, kycExpiry)
    assert row["kyc_expiry"] == on_chain[4] and row["frozen"] == on_chain[2]
    expected = {}
    for bank in registry.functions.kycBanksOf(account).call():
        status, expiry = registry.functions.kycAttestation(account, bank).call()
        expected[bank] = (KycStatus(status).name, expiry)
    assert attestations(engine, row["identity_hash"]) == expected
    return row


def test_instrument_contracts_are_participants_of_their_own_identity(world):
    indexer = world.indexer()
    indexer.sync()
    for name in INSTRUMENT_CONTRACTS:
        address = world.contracts[name].address
        row = participant(indexer.engine, address)
        assert (row["kind"], row["jurisdiction"]) == ("Instrument", "SG")
        assert row["identity_hash"] == "0x" + keccak(text=f"instrument:{name}:{address}").hex()
    with indexer.engine.connect() as conn:
        lien_instruments = {name for name, value in conn.execute(
            select(ContractParameter.name, ContractParameter.value)
            .where(ContractParameter.name.like("lienInstrument:%"))) if value == 1}
    assert lien_instruments == {f"lienInstrument:{world.contracts[n].address}"
                                for n in ("ReceivableFinancing", "LetterOfCredit", "PayableCertificates")}


def test_kyc_by_two_banks_each_keeps_its_own_attestation(world):
    registry = world.contracts["ParticipantRegistry"]
    supplier = world.address("supplier1")  # approved by bank_cn at deployment
    indexer = world.indexer()
    indexer.sync()
    first = assert_kyc_matches_the_registry(world, indexer.engine, supplier)
    assert (first["kyc_status"], first["kyc_bank"]) == ("Approved", world.address("bank_cn"))
    bank_cn_expiry = first["kyc_expiry"]

    # A second bank approves for longer: the identity is valid until its expiry, carried by it.
    later = world.now() + 7 * YEAR
    world.send("bank_us", registry.functions.attestKyc(supplier, KycStatus.Approved, later,
                                                       keccak(text="kyc-us:supplier1")))
    indexer.sync()
    row = assert_kyc_matches_the_registry(world, indexer.engine, supplier)
    assert (row["kyc_status"], row["kyc_expiry"], row["kyc_bank"]) == ("Approved", later, world.address("bank_us"))
    assert set(attestations(indexer.engine, row["identity_hash"])) == {world.address("bank_cn"), world.address("bank_us")}

    # That bank rejects: its own attestation only; bank_cn's approval still carries the identity.
    world.send("bank_us", registry.functions.attestKyc(supplier, KycStatus.Rejected, 0, keccak(text="kyc-us:rejected")))
    indexer.sync()
    row = assert_kyc_matches_the_registry(world, indexer.engine, supplier)
    assert (row["kyc_status"], row["kyc_expiry"], row["kyc_bank"]) == ("Approved", bank_cn_expiry,
                                                                       world.address("bank_cn"))
    assert attestations(indexer.engine, row["identity_hash"])[world.address("bank_us")] == ("Rejected", 0)

    # The regulator revokes every attestation: not valid, whoever attested.
    world.send("regulator", registry.functions.revokeKyc(supplier, keccak(text="SANCTIONS-HIT")))
    indexer.sync()
    row = assert_kyc_matches_the_registry(world, indexer.engine, supplier)
    assert (row["kyc_status"], row["kyc_expiry"], row["kyc_bank"]) == ("Revoked", 0, None)
    assert set(attestations(indexer.engine, row["identity_hash"]).values()) == {("Revoked", 0)}
    with indexer.engine.connect() as conn:
        identity = conn.execute(select(Identity.__table__).where(Identity.identity_hash == row["identity_hash"])).mappings().one()
    assert identity["revoked_by"] == world.address("regulator")
    assert identity["revoke_reason"] == "0x" + keccak(text="SANCTIONS-HIT").hex()

    # A bank approves again afresh.
    again = world.now() + YEAR
    world.send("bank_cn", registry.functions.attestKyc(supplier, KycStatus.Approved, again,
                                                       keccak(text="kyc-cn:again")))
    indexer.sync()
    row = assert_kyc_matches_the_registry(world, indexer.engine, supplier)
    assert (row["kyc_status"], row["kyc_expiry"], row["kyc_bank"]) == ("Approved", again, world.address("bank_cn"))


def test_a_linked_wallet_shares_the_identity_its_kyc_its_freezes_and_its_instruments(world):
    registry = world.contracts["ParticipantRegistry"]
    exporter, first_spare, second_spare = world.address("exporter"), spare(world, 0), spare(world, 1)
    world.send("operator", registry.functions.linkWallet(first_spare, exporter))
    world.send("regulator", registry.functions.freezeParticipant(exporter, keccak(text="AML-REVIEW")))
    world.send("operator", registry.functions.linkWallet(second_spare, exporter))  # linked while frozen
    indexer = world.indexer()
    indexer.sync()
    engine = indexer.engine
    identity_hash = participant(engine, exporter)["identity_hash"]
    for wallet in (exporter, first_spare, second_spare):
        row = assert_kyc_matches_the_registry(world, engine, wallet)
        assert (row["kind"], row["jurisdiction"], row["identity_hash"]) == ("Corporate", "CN", identity_hash)
        assert row["frozen"] is True and row["kyc_status"] == "Approved"
    with engine.connect() as conn:
        identity = conn.execute(select(Identity.__table__).where(Identity.identity_hash == identity_hash)).mappings().one()
    assert identity["wallets"] == [exporter, first_spare, second_spare]
    assert [(link["wallet"], link["existing"]) for link in identity["links"]] == [(first_spare, exporter),
                                                                                  (second_spare, exporter)]

    # Unfreezing and a further bank's approval reach every wallet.
    world.send("regulator", registry.functions.unfreezeParticipant(second_spare, keccak(text="AML-CLEARED")))
    later = world.now() + 9 * YEAR
    world.send("bank_us", registry.functions.attestKyc(first_spare, KycStatus.Approved, later,
                                                       keccak(text="kyc-us:exporter")))
    # The second wallet registers an invoice: the first wallet sees it (one legal identity), a stranger does not.
    invoice = world.register_invoice("exporter", "importer", "USD", 5_000_00, "WALLET-0")
    seller_invoice = world.contracts["InvoiceRegistry"].functions.register(
        world.roles["importer"], world.token("USD").address, b"WALLET-1".ljust(32, b"\0"), 6_000_00, world.now(),
        world.now() + 30 * 86400, keccak(text="doc:WALLET-1"))
    receipt = world.w3.eth.wait_for_transaction_receipt(seller_invoice.transact({"from": second_spare}))
    assert receipt["status"] == 1
    (registered,) = world.contracts["InvoiceRegistry"].events.InvoiceRegistered().process_receipt(receipt,
                                                                                                 errors=DISCARD)
    second_invoice = registered["args"]["invoiceId"]
    indexer.sync()
    for wallet in (exporter, first_spare, second_spare):
        row = assert_kyc_matches_the_registry(world, engine, wallet)
        assert row["frozen"] is False and (row["kyc_expiry"], row["kyc_bank"]) == (later, world.address("bank_us"))
        mine = {i["id"] for i in q.list_instruments(engine, wallet, "invoice", q.InstrumentFilter(limit=200))["items"]}
        assert {str(invoice), str(second_invoice)} <= mine
        assert q.get_instrument(engine, wallet, "invoice", str(second_invoice))["details"]["seller"] == second_spare
    with pytest.raises(q.NotFound):
        q.get_instrument(engine, world.address("supplier2"), "invoice", str(second_invoice))
    # Transfers too: a payment to the second wallet shows for the first.
    paid = world.pay("importer", "exporter", "EUR", 777)  # to the first wallet
    indexer.sync()
    for wallet in (exporter, second_spare):
        hashes = [t["tx_hash"] for t in q.list_transfers(engine, wallet, None, None, None, None, None, 200)["items"]]
        assert paid["transactionHash"].to_0x_hex() in hashes


def _new_events_scenario(world, step) -> None:  # type: ignore[no-untyped-def]
    """KYC by a second bank, a linked wallet, a certificate offered and accepted, another declined."""
    registry = world.contracts["ParticipantRegistry"]
    certificates = world.contracts["PayableCertificates"]
    invoices = world.contracts["InvoiceRegistry"]
    world.send("bank_us", registry.functions.attestKyc(world.roles["supplier2"], KycStatus.Approved,
                                                       world.now() + 6 * YEAR, keccak(text="kyc-us:supplier2"))); step()
    world.send("operator", registry.functions.linkWallet(spare(world, 0), world.roles["supplier2"])); step()
    accepted = world.register_invoice("supplier2", "importer", "USD", 20_000_00, "NEW-1"); step()
    declined = world.register_invoice("supplier2", "importer", "USD", 10_000_00, "NEW-2"); step()
    for invoice in (accepted, declined):
        world.send("importer", invoices.functions.confirm(invoice)); step()
        world.send("importer", certificates.functions.offer(invoice, 8_000_00, world.now() + 20 * 86400)); step()
    world.send("supplier2", certificates.functions.acceptOffer(accepted)); step()
    world.send("supplier2", certificates.functions.declineOffer(declined)); step()
    world.send("regulator", registry.functions.revokeKyc(world.roles["supplier3"], keccak(text="REVOKED"))); step()


def test_backfill_equals_live_and_reading_again_changes_nothing_for_the_new_events(tmp_path):
    with IndexerChain.start(tmp_path, accounts=12) as world:
        live = world.indexer("live.sqlite3")
        _new_events_scenario(world, live.sync)
        backfill = world.indexer("backfill.sqlite3", max_range_blocks=2)
        backfill.sync()
        assert dump(backfill.engine) == dump(live.engine)
        with live.engine.begin() as conn:  # as if the checkpoint had been lost: everything is read again
            conn.execute(IndexCheckpoint.__table__.delete())
        again = world.indexer("live.sqlite3")
        again.sync()
        assert again.events_indexed == 0 and dump(again.engine) == dump(backfill.engine)


def test_a_reorganisation_undoes_an_acceptance_a_link_and_an_attestation(tmp_path):
    with IndexerChain.start(tmp_path, accounts=12) as world:
        registry = world.contracts["ParticipantRegistry"]
        certificates = world.contracts["PayableCertificates"]
        invoices = world.contracts["InvoiceRegistry"]
        invoice = world.register_invoice("supplier1", "importer", "CNY", 50_000_00, "REORG-1")
        world.send("importer", invoices.functions.confirm(invoice))
        world.send("importer", certificates.functions.offer(invoice, 50_000_00, world.now() + 30 * 86400))
        indexer = world.indexer()
        indexer.sync()
        snapshot = world.rpc("evm_snapshot", [])
        # The branch that will be abandoned: the offer accepted, a wallet linked, a second bank's approval.
        world.send("supplier1", certificates.functions.acceptOffer(invoice))
        world.send("operator", registry.functions.linkWallet(spare(world, 0), world.roles["supplier1"]))
        world.send("bank_us", registry.functions.attestKyc(world.roles["supplier1"], KycStatus.Approved,
                                                           world.now() + 8 * YEAR, keccak(text="kyc-us:lost")))
        indexer.sync()
        assert participant(indexer.engine, spare(world, 0))["kind"] == "Corporate"
        assert world.rpc("evm_revert", [snapshot])
        # The canonical branch: the offer declined, the same wallet linked to another identity; longer.
        world.send("supplier1", certificates.functions.declineOffer(invoice))
        world.send("operator", registry.functions.linkWallet(spare(world, 0), world.roles["supplier2"]))
        world.pay("importer", "supplier1", "CNY", 1_000)
        world.pay("importer", "supplier1", "CNY", 2_000)
        indexer.sync()
        clean = world.indexer("clean.sqlite3")
        clean.sync()
        assert dump(indexer.engine) == dump(clean.engine)
        engine = indexer.engine
        assert participant(engine, spare(world, 0))["identity_hash"] == participant(engine, world.address("supplier2"))["identity_hash"]
        assert_kyc_matches_the_registry(world, engine, world.address("supplier1"))
        row = q.get_instrument(engine, world.address("supplier1"), "invoice", str(invoice))
        assert row["state"] == "Confirmed" and row["details"]["certificate_offer"] is None
        assert row["details"]["certificate_offer_closed"]["closed_by"] == world.address("supplier1")
        assert q.list_instruments(engine, world.address("regulator"), "certificate", q.InstrumentFilter())["items"] == []
