"""`ape run deploy` and `ape run bootstrap` against a running devnet: deploy once, bootstrap once, and say so
when there is nothing left to do."""

from __future__ import annotations

import importlib

from click.testing import CliRunner


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def ape_run(devnet, script: str, *args: str) -> Result:
    """`ape run <script> <args> --network ethereum:local:<devnet URL>`, in process through click's runner."""
    runner = CliRunner(mix_stderr=False)
    module = importlib.import_module(f"scripts.{script}")
    result = runner.invoke(module.cli, [*args, "--network", f"ethereum:local:{devnet.url}"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Result(result.exit_code, result.stdout, result.stderr)


def test_deploy_then_bootstrap_scripts_are_idempotent(devnet, deployments_dir):
    bootstrap_first = ape_run(devnet, "bootstrap", "demo")
    assert bootstrap_first.returncode == 1, bootstrap_first.stdout + bootstrap_first.stderr
    assert "no usable deployment" in bootstrap_first.stderr

    deploy = ape_run(devnet, "deploy", "platform")
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "tradefin deployed on chain 31337" in deploy.stdout
    assert (deployments_dir / "31337.json").exists()

    again = ape_run(devnet, "deploy", "platform")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "already deployed" in again.stdout
    registry_line = next(line for line in deploy.stdout.splitlines() if line.strip().startswith("ParticipantRegistry"))
    assert registry_line in again.stdout, "the second run must name the same registry"

    bootstrap = ape_run(devnet, "bootstrap", "demo")
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    assert "registered: regulator, bank_cn, bank_us, exporter, importer, attester" in bootstrap.stdout
    assert "funded:" in bootstrap.stdout

    bootstrap_again = ape_run(devnet, "bootstrap", "demo")
    assert bootstrap_again.returncode == 0, bootstrap_again.stdout + bootstrap_again.stderr
    assert "demo world already in place" in bootstrap_again.stdout


def test_deploy_script_rejects_an_unknown_option(devnet, deployments_dir):
    result = ape_run(devnet, "deploy", "platform", "--no-such-option")
    assert result.returncode == 2
