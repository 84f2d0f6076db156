"""`ape run deploy` and `ape run bootstrap` against a running devnet: deploy once, bootstrap once, and say so
when there is nothing left to do."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ape_run(devnet, data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRADEFIN_DATA_DIR": str(data_dir)}
    network = f"ethereum:local:{devnet.url}"
    return subprocess.run([str(ROOT / ".venv" / "bin" / "ape"), "run", *args, "--network", network], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def test_deploy_then_bootstrap_scripts_are_idempotent(devnet, tmp_path):
    bootstrap_first = ape_run(devnet, tmp_path, "bootstrap", "demo")
    assert bootstrap_first.returncode == 1, bootstrap_first.stdout + bootstrap_first.stderr
    assert "no usable deployment" in bootstrap_first.stderr

    deploy = ape_run(devnet, tmp_path, "deploy", "platform")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "tradefin deployed on chain 31337" in deploy.stdout
    assert (tmp_path / "deployments" / "31337.json").exists()

    again = ape_run(devnet, tmp_path, "deploy", "platform")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already deployed" in again.stdout
    registry_line = next(line for line in deploy.stdout.splitlines() if line.strip().startswith("ParticipantRegistry"))
    assert registry_line in again.stdout, "the second run must name the same registry"

    bootstrap = ape_run(devnet, tmp_path, "bootstrap", "demo")
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    assert "registered: regulator, bank_cn, bank_us, exporter, importer, attester" in bootstrap.stdout
    assert "funded:" in bootstrap.stdout

    bootstrap_again = ape_run(devnet, tmp_path, "bootstrap", "demo")
    assert bootstrap_again.returncode == 0, bootstrap_again.stdout + bootstrap_again.stderr
    assert "demo world already in place" in bootstrap_again.stdout


def test_deploy_script_rejects_an_unknown_option(devnet, tmp_path):
    result = ape_run(devnet, tmp_path, "deploy", "platform", "--no-such-option")
    assert result.returncode == 2
