"""Issue 12 findings "Unauthenticated large bodies" and "The regulator's key writes only supervision", replayed
through HTTP against the gateway process (app/api/guard.py decides both, before any route reads a body)."""

from __future__ import annotations

import hashlib
import json
import select
import socket
import time
from urllib.parse import urlparse

import pytest
from conftest import idem

LIMIT = 1024 * 1024  # Settings.max_json_body_bytes by default


def _connect(gateway) -> socket.socket:  # type: ignore[no-untyped-def]
    url = urlparse(gateway.url)
    return socket.create_connection((url.hostname, url.port), timeout=10)


def _read_response(sock: socket.socket, timeout: float = 5.0) -> tuple[int, dict[str, str], dict]:
    """Status, headers and JSON body of one HTTP/1.1 answer (Content-Length framed)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk
        rest += chunk
    return status, headers, json.loads(rest[:length])


def _head(path: str, extra: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: gateway", "Content-Type: application/json"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send_chunked_until_answer(sock: socket.socket, budget: int) -> int:
    """Send a chunked JSON body, 64 KiB at a time, until the gateway answers; the bytes sent by then."""
    piece = b" " * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    sent = 0
    sock.sendall(b"1\r\n[\r\n")
    while sent < budget:
        if select.select([sock], [], [], 0.05)[0]:
            return sent
        try:
            sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            return sent
        sent += len(piece)
    raise AssertionError(f"no answer after {sent} bytes of body")


# --- Unauthenticated large bodies ---------------------------------------------------------------------------

def test_unauthenticated_large_bodies_answer_401_before_the_body_is_read(gateway):
    """The attack: 200 MB of JSON without credentials. The 401 comes back before a byte of the body is sent."""
    with _connect(gateway) as sock:
        sock.sendall(_head("/v1/invoices", {"Content-Length": str(200 * 1024 * 1024)}))
        started = time.monotonic()
        status, headers, body = _read_response(sock)
        assert time.monotonic() - started < 2
    assert status == 401 and body["error"]["code"] == "Unauthenticated"
    assert headers["www-authenticate"] == "Bearer" and headers["connection"] == "close"


def test_unauthenticated_large_bodies_chunked_answer_401_at_once(gateway):
    with _connect(gateway) as sock:
        sock.sendall(_head("/v1/payments", {"Transfer-Encoding": "chunked", "Authorization": "Bearer tfk_x_y"}))
        sent = _send_chunked_until_answer(sock, budget=4 * LIMIT)
        status, _, body = _read_response(sock)
    assert status == 401 and body["error"]["code"] == "Unauthenticated"
    assert sent < 4 * LIMIT


def test_unauthenticated_large_bodies_declared_over_the_limit_answer_413_unread(gateway, world):
    with _connect(gateway) as sock:
        sock.sendall(_head("/v1/invoices", {"Content-Length": str(200 * 1024 * 1024), **world.auth("exporter"),
                                            **idem()}))
        status, headers, body = _read_response(sock)
    assert status == 413 and headers["connection"] == "close"
    assert body["error"]["code"] == "RequestBodyTooLarge"
    assert body["error"]["details"] == {"max_bytes": LIMIT, "content_length": 200 * 1024 * 1024}
    assert "larger than the 1048576 bytes a JSON request may carry" in body["error"]["message"]


def test_unauthenticated_large_bodies_chunked_over_the_limit_answer_413_once_passed(gateway, world):
    with _connect(gateway) as sock:
        sock.sendall(_head("/v1/invoices", {"Transfer-Encoding": "chunked", **world.auth("exporter"), **idem()}))
        sent = _send_chunked_until_answer(sock, budget=64 * LIMIT)
        status, headers, body = _read_response(sock)
    assert status == 413 and body["error"]["code"] == "RequestBodyTooLarge"
    assert headers["connection"] == "close"
    assert LIMIT <= sent < 8 * LIMIT  # answered soon after the limit, not after the whole 64 MB


def test_unauthenticated_large_bodies_a_body_within_the_limit_is_still_judged_by_the_route(api, world):
    padding = "x" * (LIMIT - 1000)
    answer = api.post("exporter", "/v1/invoices", json={"buyer": world.roles["importer"], "padding": padding})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "ValidationError"


def test_unauthenticated_large_bodies_gateway_stays_responsive(gateway, http):
    """While an unauthenticated client holds a connection with a 200 MB body announced, /health answers."""
    with _connect(gateway) as sock:
        sock.sendall(_head("/v1/invoices", {"Content-Length": str(200 * 1024 * 1024)}))
        sock.sendall(b"[" + b" " * 65536)
        started = time.monotonic()
        assert http.get("/health").status_code == 200
        assert time.monotonic() - started < 1


def test_unauthenticated_large_bodies_document_uploads_keep_their_own_larger_limit(api):
    content = b"%PDF-1.7 " + hashlib.sha256(b"limits").digest() * (2 * LIMIT // 32)  # 2 MB: over the JSON cap
    answer = api.post("exporter", "/v1/documents", content=content,
                      headers={"Content-Type": "application/pdf"})
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["sha256"] == "0x" + hashlib.sha256(content).hexdigest()


# --- The regulator's key writes only supervision -------------------------------------------------------------

def _regulator_writes(world) -> list[tuple[str, dict | bytes]]:  # type: ignore[no-untyped-def]
    exporter, importer = world.roles["exporter"], world.roles["importer"]
    return [
        ("/v1/financings/1/approve", {"advance_amount": 100, "annual_rate_bps": 500, "maturity": 1900000000}),
        ("/v1/payments", {"currency": "USD", "to": exporter, "amount": 100, "purpose_code": "GDDS",
                          "reference": "REG-PAY"}),
        ("/v1/approvals", {"currency": "USD", "spender": "LetterOfCredit", "amount": 10**9}),
        ("/v1/letters-of-credit/1/presentations/1/pay", {}),
        ("/v1/certificates/1/default", {}),
        ("/v1/invoices", {"buyer": importer, "currency": "USD", "invoice_number": "REG-1", "face_amount": 100,
                          "issue_date": 1795000000, "due_date": 1800000000, "document_hash": "0x" + "ab" * 32}),
        ("/v1/documents", b"%PDF-1.7 a regulator's upload"),
    ]


def test_regulator_writes_only_supervision_other_writes_answer_403(api, world):
    for path, body in _regulator_writes(world):
        kw = {"content": body, "headers": {"Content-Type": "application/pdf"}} if isinstance(body, bytes) \
            else {"json": body}
        answer = api.post("regulator", path, **kw)
        assert answer.status_code == 403, (path, answer.text)
        error = answer.json()["error"]
        assert error["code"] == "RegulatorWritesOnlySupervision", (path, error)
        assert "writes only supervision" in error["message"]
        assert error["details"]["path"] == path


def test_regulator_writes_only_supervision_nothing_was_sent(api, world):
    """A refused write stored nothing: the same Idempotency-Key, once allowed, would not replay an answer."""
    key = "regulator-refused-approval"
    for _ in range(2):
        answer = api.post("regulator", "/v1/approvals", key=key,
                          json={"currency": "USD", "spender": "PaymentRouter", "amount": 1})
        assert answer.status_code == 403 and "idempotent-replayed" not in answer.headers


def test_regulator_writes_only_supervision_freezes_and_thresholds_still_work(api, world):
    supplier3 = world.roles["supplier3"]
    frozen = api.post("regulator", f"/v1/participants/{supplier3}/freeze", json={"reason": "REG-TEST"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["result"]["frozen"] is True
    unfrozen = api.post("regulator", f"/v1/participants/{supplier3}/unfreeze", json={"reason": "REG-TEST"})
    assert unfrozen.status_code == 200, unfrozen.text
    threshold = api.post("regulator", "/v1/supervision/large-value-threshold",
                         json={"currency": "EUR", "threshold": 5_000_000_00})
    assert threshold.status_code == 200, threshold.text


@pytest.mark.parametrize("role", ["exporter", "bank_cn"])
def test_regulator_writes_only_supervision_other_participants_are_not_affected(api, world, role):
    answer = api.post(role, "/v1/approvals", json={"currency": "USD", "spender": "PaymentRouter", "amount": 0})
    assert answer.status_code == 200, answer.text
