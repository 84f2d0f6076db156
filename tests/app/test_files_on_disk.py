"""Files on disk (issue 12): the gateway's database, documents and keystores are its own (files 0600,
folders 0700), also those an earlier version left world-readable; outside development it refuses to start
without a keystore passphrase."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

from gateway_world import ROOT, GatewayProcess


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _assert_private(folder: Path) -> list[Path]:
    """Every folder under `folder` (itself included) is 0700 and every file 0600; answers the files."""
    assert _mode(folder) == 0o700, folder
    files = []
    for root, dirs, names in os.walk(folder):
        for d in dirs:
            assert _mode(Path(root) / d) == 0o700, Path(root) / d
        for n in names:
            files.append(Path(root) / n)
            assert _mode(files[-1]) == 0o600, files[-1]
    return files


def test_files_on_disk_documents_database_and_keystores_are_private(api, http, world):
    content = b"bill of lading " + secrets.token_bytes(8)
    assert http.post("/v1/documents", content=content, headers=world.auth("exporter")).status_code == 201
    documents = _assert_private(world.data_dir / "documents")
    assert world.data_dir / "documents" / hashlib.sha256(content).hexdigest()[:2] / hashlib.sha256(
        content).hexdigest() in documents
    assert any(_assert_private(world.data_dir / "keystores"))
    database = world.data_dir / "gateway.sqlite3"
    for suffix in ("", "-wal", "-shm"):  # the running gateway holds the WAL open
        assert _mode(database.with_name(database.name + suffix)) == 0o600, suffix


def test_files_on_disk_a_data_folder_the_gateway_creates_and_files_left_world_readable_become_private(world,
                                                                                                      tmp_path):
    previous = os.umask(0o022)  # the usual umask: what an earlier version's files got (and the gateway's now)
    created = tmp_path / "created" / "data"
    left = tmp_path / "left"
    old_document = left / "documents" / "ab" / ("ab" + "0" * 62)
    old_document.parent.mkdir(parents=True)
    old_document.write_bytes(b"stored by an earlier version")
    (left / "keystores").mkdir()
    (left / "gateway.sqlite3").touch()
    assert _mode(old_document) == 0o644 and _mode(left / "documents") == 0o755
    deployment = world.data_dir / "deployments" / f"{world.chain_id}.json"
    try:
        for data in (created, left):
            gateway = GatewayProcess(world.env(TRADEFIN_DATA_DIR=str(data), TRADEFIN_DEPLOYMENT_FILE=str(deployment),
                                               TRADEFIN_INDEXER_ENABLED="false"), log_path=tmp_path / "gateway.log")
            try:
                gateway.start(wait_for_chain=False)
            finally:
                gateway.stop()
    finally:
        os.umask(previous)
    assert _mode(created) == 0o700 and _mode(created.parent) == 0o700
    for data in (created, left):
        _assert_private(data / "documents")
        assert _mode(data / "gateway.sqlite3") == 0o600
    assert _mode(left / "keystores") == 0o700 and _mode(old_document) == 0o600


def _start(environment: str, passphrase: str | None, module: str = "app.runner") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFIN_")}
    env["TRADEFIN_ENVIRONMENT"] = environment
    if passphrase is not None:
        env["TRADEFIN_KEYSTORE_PASSPHRASE"] = passphrase
    return subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_files_on_disk_outside_development_no_passphrase_fails_closed_at_start_up():
    for module in ("app.runner", "app.indexer"):
        for environment in ("production", "test"):
            refused = _start(environment, None, module)
            assert refused.returncode != 0, (module, environment)
            assert refused.stderr.strip() == (
                "tradefin: refusing to start: no keystore passphrase is set: TRADEFIN_KEYSTORE_PASSPHRASE is "
                f"required outside development (TRADEFIN_ENVIRONMENT={environment}); the development passphrase "
                "is used only when TRADEFIN_ENVIRONMENT=development"), (module, refused.stderr)
    development_value = _start("production", "tradefin-development-only")
    assert development_value.returncode != 0 and "Traceback" not in development_value.stderr
    assert "must be set to a real secret outside development" in development_value.stderr


def test_files_on_disk_a_misspelt_environment_variable_refuses_to_start_instead_of_meaning_development():
    """`TRADEFIN_ENVIROMENT=production` (one letter short) would leave the default, development, in force: with
    the development passphrase and no warning. Both processes name the variable and the setting it meant."""
    for module in ("app.runner", "app.indexer"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFIN_")}
        env["TRADEFIN_ENVIROMENT"] = "production"
        refused = subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
                                 timeout=60, check=False)
        assert refused.returncode == 1, (module, refused.stderr)
        assert refused.stderr.strip() == (
            "tradefin: refusing to start: unknown setting TRADEFIN_ENVIROMENT (did you mean TRADEFIN_ENVIRONMENT?); "
            "the settings are listed in app/core/config.py and app/indexer/config.py"), (module, refused.stderr)
