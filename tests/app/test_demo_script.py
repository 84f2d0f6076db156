"""`scripts/demo.py` end to end against the test gateway: the whole story passes, and passes again on the
same chain (fresh idempotency keys and invoice numbers per run); a refused step or a missing keys file is
reported with its exit code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _demo(gateway, world, keys: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--url", gateway.url,
                           "--keys", str(keys), "--rpc-url", world.rpc_url, *extra],
                          capture_output=True, text=True, timeout=180, cwd=ROOT, check=False)


@pytest.fixture(scope="module")
def keys_file(world) -> Path:
    return world.data_dir / "gateway-api-keys.json"


@pytest.fixture(scope="module", autouse=True)
def threshold_reset(api):
    """The demo sets the USD large-value threshold; other modules' payments must not be reported."""
    yield
    r = api.post("regulator", "/v1/supervision/large-value-threshold", json={"currency": "USD", "threshold": 0})
    assert r.status_code == 200, r.text


def test_the_demo_runs_the_whole_story_and_runs_again_on_the_same_chain(gateway, world, keys_file):
    for run in ("first", "second"):
        done = _demo(gateway, world, keys_file)
        assert done.returncode == 0, f"{run} run:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
        out = done.stdout
        assert "every expected outcome happened" in out
        assert "409  refused: ReceivableFinancingInvoiceLiened" in out, "a second bank is told the invoice is liened"
        assert "409  refused: InvoiceRegistryAlreadyRegistered" in out
        assert "422  refused: ValidationError" in out, "a commercial invoice is presented with its registered invoice"
        assert "409  refused: LetterOfCreditInvoiceUnderPresentation" in out
        assert "/v1/certificates/offers" in out and "/accept" in out, "the seller accepts the buyer's offer"
        assert '"state": "Refused"' in out and '"state": "Paid"' in out
        assert "structuring:" in out and "evidence (event ids)" in out
        assert "anchored by invoice" in out


def test_a_refused_step_fails_the_demo_with_exit_code_1(gateway, world, keys_file, tmp_path):
    keys = json.loads(keys_file.read_text())
    keys["exporter"]["api_key"] = "tfk_unknown_not-a-secret"
    broken = tmp_path / "keys.json"
    broken.write_text(json.dumps(keys))
    done = _demo(gateway, world, broken)
    assert done.returncode == 1
    assert "DEMO FAILED" in done.stderr and "document upload" in done.stderr


def test_a_missing_keys_file_is_a_usage_error(gateway, world, tmp_path):
    done = _demo(gateway, world, tmp_path / "absent.json")
    assert done.returncode == 2 and "no API keys file" in done.stderr


def test_the_demo_runs_the_whole_story_with_every_bank_and_corporate_on_its_own_key(gateway, world, keys_file):
    """Issue 14, done when: `--own-keys`, every bank and corporate writes through signed requests from keys the
    gateway never sees (relayed through the forwarder); the story and its refusals are the same."""
    done = _demo(gateway, world, keys_file, "--own-keys")
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    out = done.stdout
    assert "every expected outcome happened" in out
    assert "409  refused: ReceivableFinancingInvoiceLiened" in out and '"state": "Paid"' in out
    signed = [line for line in out.splitlines() if "signed with its own key" in line]
    for role in ("bank_cn", "bank_us", "exporter", "importer", "supplier1"):
        assert any(role in line for line in signed), f"{role} never wrote with its own key"
    keystores = {p.stem.lower() for p in (world.data_dir / "keystores").glob("*.json")}
    own = re.findall(r"own wallet (0x[0-9a-fA-F]{8})", out)
    assert own and not any(k.startswith(a.lower()[:10]) or a.lower()[2:] in k for a in own for k in keystores)
