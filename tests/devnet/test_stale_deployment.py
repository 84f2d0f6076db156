"""A chain whose recorded deployment does not match the current build (issue 11): the deployment record carries
a build fingerprint; attaching compares it with the contracts compiled now, and `make run`, `ape run deploy` and
`ape run bootstrap` say what changed and how to start afresh (`make reset`) instead of serving stale contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_platform_run import run_until_ready
from test_scripts import ape_run

from scripts._common import load_deployment
from scripts._devnet import (
    PLATFORM_CONTRACTS,
    RESET_COMMAND,
    StaleDeployment,
    attach_recorded,
    build_changes,
    build_fingerprint,
    code_fingerprint,
    ensure_platform,
)
from tools.devnet import free_port

ROOT = Path(__file__).resolve().parents[2]
METADATA = bytes.fromhex("a264697066735822") + bytes(34) + bytes.fromhex("64736f6c6343000825") + (51).to_bytes(2, "big")


# ── The fingerprint (no chain) ─────────────────────────────────────────────────────────────────────────────


def test_the_fingerprint_ignores_the_compiler_metadata_but_not_the_code():
    code = bytes.fromhex("6080604052348015600e575f5ffd5b50")
    assert code_fingerprint(code + METADATA) == code_fingerprint(code + METADATA[:10] + b"\x01" + METADATA[11:])
    assert code_fingerprint(code + METADATA) != code_fingerprint(code[:-1] + b"\x51" + METADATA)
    assert code_fingerprint(b"\x60") != code_fingerprint(b"\x61")  # too short for a trailer: all of it counts


def test_build_changes_name_what_differs():
    from ape import project

    current = build_fingerprint(project)
    assert set(current) == {"Forwarder", "ParticipantRegistry", "SettlementToken", "InvoiceRegistry",
                            "ReceivableFinancing", "LetterOfCredit", "PaymentRouter", "PayableCertificates"}
    record = {"contracts": {name: "0x" + "11" * 20 for name in PLATFORM_CONTRACTS}, "build": dict(current)}
    assert build_changes(record, current) == []
    stale = {**record, "build": {**current, "LetterOfCredit": "0x" + "00" * 32, "SettlementToken": "0x" + "01" * 32}}
    assert build_changes(stale, current) == ["code changed since the deployment: LetterOfCredit, SettlementToken"]
    older = {"contracts": {n: a for n, a in record["contracts"].items() if n != "Forwarder"}}
    changes = build_changes(older, current)
    assert changes[0] == "Forwarder: not in the recorded deployment"
    assert "no build fingerprint" in changes[-1]
    gone = {**record, "contracts": {**record["contracts"], "Escrow": "0x" + "22" * 20}}
    assert build_changes(gone, current) == ["Escrow: no longer a contract of the project"]


# ── On a devnet ────────────────────────────────────────────────────────────────────────────────────────────


def _tamper(deployments_dir: Path, contract_type: str = "LetterOfCredit") -> None:
    """As if `contract_type` had been changed and compiled again since the deployment."""
    path = deployments_dir / "31337.json"
    record = json.loads(path.read_text())
    record["build"][contract_type] = "0x" + "00" * 32
    path.write_text(json.dumps(record))


def test_a_deployment_of_another_build_is_refused_by_name_and_redeploy_replaces_it(devnet, connect,
                                                                                    deployments_dir):
    from ape import accounts, chain, project

    operator = accounts.test_accounts[0]
    with connect(devnet.url):
        state = ensure_platform(project, chain, operator)
        assert state.deployed
        record = load_deployment(chain.chain_id)
        assert record["build"] == build_fingerprint(project)
        assert set(record["contracts"]) == set(PLATFORM_CONTRACTS)
        assert attach_recorded(project, chain)[0] is not None

        _tamper(deployments_dir)
        with pytest.raises(StaleDeployment) as refused:
            ensure_platform(project, chain, operator)
        assert refused.value.changes == ["code changed since the deployment: LetterOfCredit"]
        assert str(refused.value.record_path) == str(deployments_dir / "31337.json")

    deploy = ape_run(devnet, "deploy", "platform")
    assert deploy.returncode == 1, deploy.stdout + deploy.stderr
    assert "stale deployment on chain 31337" in deploy.stderr and "LetterOfCredit" in deploy.stderr
    assert RESET_COMMAND in deploy.stderr and "--redeploy" in deploy.stderr
    bootstrap = ape_run(devnet, "bootstrap", "demo")
    assert bootstrap.returncode == 1 and "built from other code" in bootstrap.stderr
    assert RESET_COMMAND in bootstrap.stderr

    redeploy = ape_run(devnet, "deploy", "platform", "--redeploy")
    assert redeploy.returncode == 0, redeploy.stdout + redeploy.stderr
    again = ape_run(devnet, "deploy", "platform")
    assert again.returncode == 0 and "already deployed" in again.stdout, again.stdout + again.stderr


@pytest.mark.slow
@pytest.mark.stops_made_run
def test_make_run_stops_on_a_stale_deployment_and_make_reset_starts_afresh(made_run):
    data_dir, port = made_run.data_dir, made_run.rpc_port
    if made_run.process.poll() is None:
        assert made_run.stop() == 0, "".join(made_run.output)
    assert "contracts deployed" in "".join(made_run.output)
    _tamper(data_dir / "deployments", "PayableCertificates")
    (data_dir / "keystores").mkdir(exist_ok=True)  # (made by the gateway: kept by reset)

    env = {**os.environ, "TRADEFIN_DATA_DIR": str(data_dir), "TRADEFIN_RPC_PORT": str(port)}
    stale = subprocess.run([sys.executable, "-m", "tools.platform", "run"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=300, check=False)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "built from other contract code" in stale.stderr
    assert "code changed since the deployment: PayableCertificates" in stale.stderr
    assert f"  {RESET_COMMAND}" in stale.stderr
    assert "running; Ctrl-C stops" not in stale.stdout, "stale contracts must not be served"

    reset = subprocess.run([sys.executable, "-m", "tools.platform", "reset"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120, check=False)
    assert reset.returncode == 0, reset.stdout + reset.stderr
    left = {p.name for p in data_dir.iterdir()}
    assert not {"devnet", "deployments", "gateway.sqlite3", "gateway-api-keys.json"} & left, left
    assert "keystores" in left
    nothing = subprocess.run([sys.executable, "-m", "tools.platform", "reset"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120, check=False)
    assert nothing.returncode == 0 and "nothing to reset" in nothing.stdout

    fresh, _, code = run_until_ready(data_dir, port)
    assert code == 0 and "contracts deployed" in fresh, fresh


def test_reset_refuses_while_the_devnet_runs(tmp_path):
    from tools.devnet import DEFAULT_KIND, Devnet

    port = free_port()
    node = Devnet(DEFAULT_KIND, tmp_path / "devnet", port)
    node.start()
    try:
        env = {**os.environ, "TRADEFIN_DATA_DIR": str(tmp_path), "TRADEFIN_RPC_PORT": str(free_port())}
        busy = subprocess.run([sys.executable, "-m", "tools.platform", "reset"], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert busy.returncode == 1 and "stop `make run` first" in busy.stderr, busy.stdout + busy.stderr
        assert (tmp_path / "devnet").is_dir()
    finally:
        node.stop()
