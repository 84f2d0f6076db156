"""Who may read a stored document (issue 12): the two reproduced leaks and every instrument path, the attacker
review's findings (attester party grants, the buyer getting a financing's terms, the content-type oracle), the
existence oracle, and streamed uploads.

Rule (`app.services.document_access`): a document is granted only to the readers of an instrument (parties in
the roles its kind chooses) whose hash was put on chain by someone who could already read it. Each path below
names the hash of a document only `supplier1` may read: afterwards it stays unreadable to everyone else,
answered exactly as a document that does not exist, also once the gateway's indexer has indexed the instrument
(the indexer grants too).
"""

from __future__ import annotations

import hashlib
import secrets
import socket
import time

import httpx
import pytest
from gateway_world import ROOT
from instrument_helpers import approve_spender, chain_now, code, invoice, issued_certificate
from test_letters_of_credit import _advised, _docs, _present

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
EVERYONE = ("exporter", "importer", "bank_cn", "bank_us", "supplier1", "supplier2", "attester")
EVERYONE_BUT_THE_OWNER = tuple(role for role in EVERYONE if role != "supplier1")


@pytest.fixture(scope="module")
def allowances(api):
    approve_spender(api, "bank_cn", "ReceivableFinancing")
    for role in ("importer", "bank_us"):
        approve_spender(api, role, "LetterOfCredit", 10**15)


def _upload(http, world, role: str, content: bytes, content_type: str = "application/pdf") -> httpx.Response:
    return http.post("/v1/documents", content=content, headers=world.auth(role) | {"Content-Type": content_type})


def _suppliers_secret(http, world) -> str:
    """A document only supplier1 may read: its hash is what the attacks name."""
    r = _upload(http, world, "supplier1", b"supplier1's own contract " + secrets.token_bytes(16))
    assert r.status_code == 201, r.text
    return r.json()["sha256"]


def _indexed(api, block: int) -> None:
    """Wait until the gateway's indexer has indexed `block` (its grants are written in the same transaction)."""
    deadline = time.monotonic() + 30
    while (api.get("regulator", "/v1/index/status").json()["block_number"] or 0) < block:
        assert time.monotonic() < deadline, "the indexer did not catch up"
        time.sleep(0.05)


def _unknown(response: httpx.Response, sha256: str) -> dict:
    assert response.status_code == 404, response.text
    assert code(response) == "DocumentUnknown"
    assert response.json()["error"]["details"] == {"sha256": sha256}
    return response.json()


def _only_readers(api, sha256: str, readers: tuple[str, ...], others: tuple[str, ...] | None = None) -> None:
    """`readers` download the document; every other role (`others`) is answered as for a missing document."""
    missing = "0x" + secrets.token_hex(32)
    for role in (others if others is not None else tuple(r for r in EVERYONE if r not in readers)):
        for suffix in ("", "/meta"):
            existing = _unknown(api.get(role, f"/v1/documents/{sha256}{suffix}"), sha256)
            absent = _unknown(api.get(role, f"/v1/documents/{missing}{suffix}"), missing)
            assert existing["error"]["message"] == absent["error"]["message"]  # nothing tells the two apart
    for role in readers:
        assert api.get(role, f"/v1/documents/{sha256}").status_code == 200, role


def _only_supplier1_reads(api, sha256: str, roles=EVERYONE_BUT_THE_OWNER) -> None:
    _only_readers(api, sha256, ("supplier1",), roles)


# ───────────────────────────── Leak 1: financing.approve with a stranger's terms_hash ─────────────────────────────

def test_leak1_financing_terms_hash_of_an_unreadable_document_grants_nothing(api, http, world, allowances):
    secret = _suppliers_secret(http, world)
    financing = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice(api, world), "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    assert financing.status_code == 201, financing.text
    approved = api.post("bank_cn", f"/v1/financings/{financing.json()['result']['financing_id']}/approve", json={
        "advance_amount": 1_000_00, "rate_bps": 300, "maturity": chain_now(world) + 86_400, "terms_hash": secret})
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"]["terms_hash"] == secret  # on chain, public: and still nobody reads it
    _only_supplier1_reads(api, secret)
    _indexed(api, approved.json()["block_number"])
    _only_supplier1_reads(api, secret)


def test_leak1_the_banks_own_agreement_is_granted_to_the_seller_once_approved(api, http, world, allowances):
    """The control: the same path with a document the bank may read grants it to both parties, only them."""
    agreement = _upload(http, world, "bank_cn", b"receivable purchase agreement " + secrets.token_bytes(8))
    digest = agreement.json()["sha256"]
    financing = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice(api, world), "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    approved = api.post("bank_cn", f"/v1/financings/{financing.json()['result']['financing_id']}/approve", json={
        "advance_amount": 1_000_00, "rate_bps": 300, "maturity": chain_now(world) + 86_400, "terms_hash": digest})
    assert approved.status_code == 200, approved.text
    assert api.get("exporter", f"/v1/documents/{digest}").status_code == 200
    _unknown(api.get("importer", f"/v1/documents/{digest}"), digest)


# ───────────────────────────── Leak 2: a certificate passed to the document's owner ─────────────────────────────

def test_leak2_certificate_transferred_to_the_owner_of_a_named_document_grants_nothing(api, http, world, allowances):
    """The seller registers an invoice naming supplier1's document, the buyer offers a certificate, the seller
    accepts it and transfers it to supplier1: supplier1 becomes a holder, a party of the certificate, and may
    read the document, but it did not name the hash: the seller did, and could not read it."""
    secret = _suppliers_secret(http, world)
    invoice_id = invoice(api, world, document_hash=secret)
    certificate_id = issued_certificate(api, world, invoice_id, 10_000_00, 30 * 86_400)
    moved = api.post("exporter", f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier1"]})
    assert moved.status_code == 200, moved.text
    _indexed(api, moved.json()["block_number"])
    holder = api.get("supplier1", f"/v1/instruments/certificate/{certificate_id}")
    assert holder.status_code == 200 and holder.json()["details"]["holder"] == world.roles["supplier1"]
    _only_supplier1_reads(api, secret)


def test_leak2_a_certificate_of_the_sellers_own_document_is_shared_down_the_tree(api, http, world, allowances):
    """The control: with the seller's own invoice document, the holder it transfers to may read it."""
    document = _upload(http, world, "exporter", b"commercial invoice " + secrets.token_bytes(8)).json()["sha256"]
    invoice_id = invoice(api, world, document_hash=document)
    certificate_id = issued_certificate(api, world, invoice_id, 10_000_00, 30 * 86_400)
    moved = api.post("exporter", f"/v1/certificates/{certificate_id}/transfer", json={"to": world.roles["supplier2"]})
    assert moved.status_code == 200, moved.text
    _indexed(api, moved.json()["block_number"])
    assert api.get("supplier2", f"/v1/documents/{document}").status_code == 200
    _unknown(api.get("bank_us", f"/v1/documents/{document}"), document)


# ───────────────────────────── The other paths that name a hash ─────────────────────────────

def test_invoice_registration_and_its_financing_naming_an_unreadable_document_grant_nothing(api, http, world,
                                                                                             allowances):
    secret = _suppliers_secret(http, world)
    invoice_id = invoice(api, world, document_hash=secret)
    applied = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice_id, "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    _indexed(api, applied.json()["block_number"])
    _only_supplier1_reads(api, secret)


def test_a_letter_of_credit_presentation_naming_an_unreadable_document_grants_nothing(api, http, world, allowances):
    secret = _suppliers_secret(http, world)
    lc = _advised(api, world, confirming_bank=world.roles["bank_cn"])
    presented = _present(api, world, lc, documents=[{"type": "TransportDocument", "sha256": secret},
                                                    *_docs("CommercialInvoice")])
    assert presented.status_code == 201, presented.text
    _indexed(api, presented.json()["block_number"])
    _only_supplier1_reads(api, secret)


# ─────────────── Attester party grants: a customs attester is a party of the invoice, not a reader ───────────────

def test_attester_party_grants_a_customs_attester_never_reads_the_invoice_document(api, http, world, allowances):
    """The seller registers an invoice naming its own document; the attester attests the invoice's customs
    declaration and so becomes a party of the invoice in the index (it sees the invoice). It still may not read
    the document, answered as for one that does not exist, also once indexed. The control: the seller, the
    buyer and the bank the seller applies to for financing of the invoice read it."""
    document = _upload(http, world, "exporter", b"commercial invoice " + secrets.token_bytes(8)).json()["sha256"]
    invoice_id = invoice(api, world, document_hash=document)
    attested = api.post("attester", f"/v1/invoices/{invoice_id}/customs", json={
        "declaration_hash": "0x" + secrets.token_hex(32), "declared_amount": 10_000_00})
    assert attested.status_code == 200, attested.text
    applied = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice_id, "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    _indexed(api, applied.json()["block_number"])
    seen = api.get("attester", f"/v1/instruments/invoice/{invoice_id}")
    assert seen.status_code == 200 and seen.json()["details"]["customs"]["attester"] == world.roles["attester"]
    _only_readers(api, document, ("exporter", "importer", "bank_cn"))


# ─────────────── Buyer gets terms document: a financing's terms are the seller's and the bank's ───────────────

def test_buyer_gets_terms_document_the_financing_terms_reach_only_the_seller_and_the_bank(api, http, world,
                                                                                           allowances):
    """The bank approves a financing naming its own agreement as `terms_hash`. The invoice's buyer is a party of
    the financing in the index (it sees the financing) and still may not read the agreement, at once nor once
    indexed. The control: the seller and the bank read the agreement, and the bank the invoice's document."""
    document = _upload(http, world, "exporter", b"commercial invoice " + secrets.token_bytes(8)).json()["sha256"]
    agreement = _upload(http, world, "bank_cn", b"receivable purchase agreement " + secrets.token_bytes(8))
    terms = agreement.json()["sha256"]
    invoice_id = invoice(api, world, document_hash=document)
    applied = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice_id, "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    financing_id = applied.json()["result"]["financing_id"]
    approved = api.post("bank_cn", f"/v1/financings/{financing_id}/approve", json={
        "advance_amount": 1_000_00, "rate_bps": 300, "maturity": chain_now(world) + 86_400, "terms_hash": terms})
    assert approved.status_code == 200, approved.text
    _only_readers(api, terms, ("bank_cn", "exporter"))  # the gateway's grant, before the indexer's
    _indexed(api, approved.json()["block_number"])
    seen = api.get("importer", f"/v1/instruments/financing/{financing_id}")
    assert seen.status_code == 200 and seen.json()["details"]["terms_hash"] == terms
    _only_readers(api, terms, ("bank_cn", "exporter"))
    _only_readers(api, document, ("exporter", "importer", "bank_cn"))


# ─────────────── Content-type oracle: each reader is answered its own declaration or its namer's ───────────────

def _declared(api, role: str, sha256: str, content: bytes) -> str:
    """The content type `role` is answered for a document, the same by `/meta` and by the download."""
    meta = api.get(role, f"/v1/documents/{sha256}/meta")
    download = api.get(role, f"/v1/documents/{sha256}")
    assert meta.status_code == 200 and download.status_code == 200 and download.content == content, role
    assert download.headers["content-type"] == meta.json()["content_type"], role
    return meta.json()["content_type"]


def test_content_type_oracle_nobody_learns_what_another_uploader_declared(api, http, world, allowances):
    """supplier1 stores some bytes first, declaring a content type of its own; the exporter stores the same
    bytes declaring another, and names them on an invoice to the importer. Neither the exporter (a second
    uploader) nor the importer (its grantee, at once and once indexed) is answered supplier1's declaration: the
    exporter its own, the importer its namer's, by the upload answer, `/meta` and the download. The control:
    supplier1 is still answered its own; a repeated upload changes nobody's (the uploader's neither)."""
    content = b"bill of lading " + secrets.token_bytes(8)
    first = _upload(http, world, "supplier1", content, "application/x-supplier1-private")
    assert first.status_code == 201, first.text
    second = _upload(http, world, "exporter", content, "application/pdf")
    assert second.status_code == 201 and second.json()["content_type"] == "application/pdf", second.text
    sha256 = second.json()["sha256"]
    assert _declared(api, "exporter", sha256, content) == "application/pdf"
    invoice_id = invoice(api, world, document_hash=sha256)
    assert _declared(api, "importer", sha256, content) == "application/pdf"  # the gateway's grant
    applied = api.post("exporter", "/v1/financings", json={
        "invoice_id": invoice_id, "bank": world.roles["bank_cn"], "requested_amount": 5_000_00})
    assert applied.status_code == 201, applied.text
    _indexed(api, applied.json()["block_number"])
    for role in ("exporter", "importer", "bank_cn"):  # the bank: the indexer's grant
        assert _declared(api, role, sha256, content) == "application/pdf", role
    assert _declared(api, "supplier1", sha256, content) == "application/x-supplier1-private"
    for role in ("exporter", "importer"):
        again = _upload(http, world, role, content, "application/x-again")
        assert again.status_code == 200 and again.json()["content_type"] == "application/pdf", again.text
        assert _declared(api, role, sha256, content) == "application/pdf"
    assert _declared(api, "supplier1", sha256, content) == "application/x-supplier1-private"


_OLD_DOCUMENT = "0x" + "ab" * 32


def _database_of_the_earlier_version(path):
    """The document tables as the earlier version created them: one content type per document."""
    from sqlalchemy import text

    from app.db.session import make_engine

    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE documents (sha256 VARCHAR(66) NOT NULL, size BIGINT NOT NULL, "
                          "content_type VARCHAR(120) NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (sha256))"))
        conn.execute(text("CREATE TABLE document_uploads (sha256 VARCHAR(66) NOT NULL, participant VARCHAR(42) "
                          "NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (sha256, participant), "
                          "FOREIGN KEY(sha256) REFERENCES documents (sha256))"))
        conn.execute(text("INSERT INTO documents VALUES (:h, 3, 'application/x-first', '2026-01-01 00:00:00.000000')"),
                     {"h": _OLD_DOCUMENT})
        conn.execute(text("INSERT INTO document_uploads VALUES (:h, :p, :t)"), [
            {"h": _OLD_DOCUMENT, "p": "0xFirst", "t": "2026-01-01 00:00:00.000001"},
            {"h": _OLD_DOCUMENT, "p": "0xLater", "t": "2026-01-02 00:00:00.000000"}])
    return engine


def _upgraded_as_expected(engine) -> None:
    from sqlalchemy import inspect, text

    assert "content_type" not in {c["name"] for c in inspect(engine).get_columns("documents")}
    with engine.connect() as conn:
        assert dict(conn.execute(text("SELECT participant, content_type FROM document_uploads")).all()) == {
            "0xFirst": "application/x-first", "0xLater": "application/octet-stream"}


def test_content_type_oracle_a_database_of_an_earlier_version_keeps_only_the_first_uploaders_declaration(tmp_path):
    """An earlier version kept one content type per document, its first uploader's. Started on such a database,
    the gateway gives it to that uploader's row only; every later reader's row says `application/octet-stream`."""
    from sqlalchemy import inspect, text

    from app.db.session import make_sessionmaker
    from app.services import document_access

    engine = _database_of_the_earlier_version(tmp_path / "gateway.sqlite3")
    sha256 = _OLD_DOCUMENT
    sessions = make_sessionmaker(engine)
    assert "content_type" not in {c["name"] for c in inspect(engine).get_columns("documents")}
    with sessions.begin() as session:
        conn = session.connection()
        assert dict(conn.execute(text("SELECT participant, content_type FROM document_uploads")).all()) == {
            "0xFirst": "application/x-first", "0xLater": "application/octet-stream"}
        assert document_access.record_upload(conn, sha256, 3, "application/pdf", "0xNew")
    make_sessionmaker(engine)  # once upgraded, nothing more to do
    with engine.connect() as conn:
        assert conn.execute(text("SELECT content_type FROM document_uploads WHERE participant = '0xNew'")).scalar() \
            == "application/pdf"


# ───────────────────────────── Existence oracle ─────────────────────────────

def test_existence_oracle_a_stranger_reads_an_existing_and_a_missing_document_alike(api, http, world):
    secret = _suppliers_secret(http, world)
    _only_supplier1_reads(api, secret, roles=("supplier2", "regulator", "operator"))


def test_existence_oracle_an_upload_answers_alike_whether_or_not_someone_stored_the_bytes_before(api, http, world):
    stored_before = b"a template everyone has " + secrets.token_bytes(8)
    first = _upload(http, world, "supplier1", stored_before, "text/plain")
    assert first.status_code == 201, first.text
    time.sleep(0.01)
    again = _upload(http, world, "supplier2", stored_before)  # someone else stored these bytes: not told
    never = _upload(http, world, "supplier2", b"bytes nobody stored " + secrets.token_bytes(8))
    for answer, content in ((again, stored_before), (never, None)):
        assert answer.status_code == 201, answer.text
        body = answer.json()
        assert set(body) == {"sha256", "size", "content_type", "created_at"}
        assert body["content_type"] == "application/pdf"  # what this uploader sent
        if content is not None:
            assert body["sha256"] == "0x" + hashlib.sha256(content).hexdigest() and body["size"] == len(content)
    assert again.json()["created_at"] > first.json()["created_at"]  # when supplier2, not supplier1, stored it
    meta = api.get("supplier2", f"/v1/documents/{again.json()['sha256']}/meta").json()
    assert meta["created_at"] == again.json()["created_at"]
    # The caller's own repeated upload answers 200: it could read the document already.
    repeated = _upload(http, world, "supplier2", stored_before)
    assert repeated.status_code == 200 and repeated.json()["created_at"] == again.json()["created_at"]


# ───────────────────────────── Streamed uploads ─────────────────────────────

def _leftovers(world) -> list[str]:
    return sorted(p.name for p in (world.data_dir / "documents").rglob(".upload-*"))


def test_uploads_a_chunked_body_over_the_document_limit_answers_413_and_leaves_no_file(http, world):
    assert _leftovers(world) == []
    chunk = secrets.token_bytes(1024 * 1024)
    prefix = hashlib.sha256()

    def body():
        for _ in range(MAX_DOCUMENT_BYTES // len(chunk)):
            prefix.update(chunk)
            yield chunk
        yield b"!"  # one byte past the limit

    refused = http.post("/v1/documents", content=body(), headers=world.auth("exporter"))
    assert "content-length" not in refused.request.headers and refused.request.headers["transfer-encoding"] == "chunked"
    assert refused.status_code == 413, refused.text
    assert code(refused) == "DocumentTooLarge" and refused.json()["error"]["details"]["max_bytes"] == MAX_DOCUMENT_BYTES
    assert "nothing was stored" in refused.json()["error"]["message"]
    assert _leftovers(world) == []
    assert not list((world.data_dir / "documents").rglob(prefix.hexdigest()))
    assert http.get("/health").status_code == 200


def test_uploads_a_declared_length_over_the_limit_is_refused_before_the_body_is_read(gateway, world):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=10) as sock:
        sock.sendall(("POST /v1/documents HTTP/1.1\r\nHost: gateway\r\n"
                      f"Authorization: {world.auth('exporter')['Authorization']}\r\n"
                      f"Content-Length: {MAX_DOCUMENT_BYTES + 1}\r\n\r\n").encode() + b"x" * 1024)
        received = b""
        while chunk := sock.recv(65536):  # until the gateway closes the connection
            received += chunk
        answer = received.decode()
    assert answer.startswith("HTTP/1.1 413") and '"DocumentTooLarge"' in answer
    assert _leftovers(world) == []


def test_uploads_a_chunked_body_within_the_limit_is_stored_whole(api, http, world):
    parts = [secrets.token_bytes(300_000) for _ in range(5)]
    stored = http.post("/v1/documents", content=iter(parts), headers=world.auth("exporter"))
    assert stored.status_code == 201, stored.text
    whole = b"".join(parts)
    assert stored.json() | {"created_at": None} == {
        "sha256": "0x" + hashlib.sha256(whole).hexdigest(), "size": len(whole),
        "content_type": "application/octet-stream", "created_at": None}
    assert api.get("exporter", f"/v1/documents/{stored.json()['sha256']}").content == whole
    assert _leftovers(world) == []


def test_upgrade_interrupted_after_its_first_step_finishes_at_the_next_start(tmp_path):
    """SQLite commits an `ALTER TABLE` on its own: a process killed after adding the new column must not leave
    a database on which the next start sees "upgraded" while `documents.content_type` (NOT NULL) still refuses
    every new upload. The next start finishes the upgrade, and a new document is stored."""
    from sqlalchemy import text

    from app.db.session import make_sessionmaker
    from app.services import document_access

    engine = _database_of_the_earlier_version(tmp_path / "gateway.sqlite3")
    with engine.begin() as conn:  # what the killed start left: the first step only
        conn.execute(text("ALTER TABLE document_uploads ADD COLUMN content_type VARCHAR(120) NOT NULL "
                          "DEFAULT 'application/octet-stream'"))
    sessions = make_sessionmaker(engine)
    _upgraded_as_expected(engine)
    with sessions.begin() as session:
        assert document_access.record_upload(session.connection(), "0x" + "cd" * 32, 5, "text/plain", "0xNew")


def test_upgrade_run_by_the_gateway_and_the_indexer_starting_together_is_done_once(tmp_path):
    """The gateway and a separate indexer open the same database at the same moment: one upgrades, the other
    waits for it and finds nothing to do; neither fails ("duplicate column")."""
    import subprocess
    import sys

    path = tmp_path / "gateway.sqlite3"
    _database_of_the_earlier_version(path).dispose()
    program = ("import sys, time\n"
               "from app.db.session import make_engine, make_sessionmaker\n"
               "engine = make_engine(sys.argv[1])\n"
               "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
               "make_sessionmaker(engine)\n")
    start = time.time() + 2.0  # both past their imports, then together
    starts = [subprocess.Popen([sys.executable, "-c", program, f"sqlite:///{path}", str(start)], cwd=ROOT,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for process in starts:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
    from app.db.session import make_engine

    _upgraded_as_expected(make_engine(f"sqlite:///{path}"))
