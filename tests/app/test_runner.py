"""Starting the gateway for `make run`, and the settings' refusal of default secrets."""

from __future__ import annotations

import json
import shutil
import signal

import httpx
import pytest
from gateway_world import free_port
from pydantic import ValidationError

from app.core.config import DEVELOPMENT_PASSPHRASE, Settings
from app.runner import start_gateway_process


def test_default_passphrase_is_refused_outside_development(monkeypatch):
    monkeypatch.delenv("TRADEFIN_KEYSTORE_PASSPHRASE", raising=False)
    with pytest.raises(ValidationError, match="PASSPHRASE"):
        Settings(environment="production")
    assert Settings(environment="development").keystore_passphrase.get_secret_value() == DEVELOPMENT_PASSPHRASE
    assert Settings(environment="production", keystore_passphrase="a-real-secret-from-vault").environment == "production"


def test_database_defaults_to_sqlite_under_the_data_folder(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    assert settings.resolved_deployment_file == tmp_path / "deployments" / "31337.json"


def test_start_gateway_process_creates_keys_once_and_serves(world, tmp_path, monkeypatch, capsys):
    data = tmp_path / "platform-data"
    shutil.copytree(world.data_dir / "deployments", data / "deployments")
    for name in ("TRADEFIN_ENVIRONMENT", "TRADEFIN_KEYSTORE_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRADEFIN_KEYSTORE_SCRYPT_N", str(2**12))
    monkeypatch.setenv("TRADEFIN_LOG_LEVEL", "warning")
    port = free_port()
    process = start_gateway_process(world.rpc_url, world.chain_id, port=port, data_dir=str(data))
    try:
        printed = capsys.readouterr().out
        keys = json.loads((data / "gateway-api-keys.json").read_text())
        assert keys["exporter"]["api_key"] in printed
        assert (data / "gateway-api-keys.json").stat().st_mode & 0o077 == 0
        me = httpx.get(f"http://127.0.0.1:{port}/v1/me",
                       headers={"Authorization": f"Bearer {keys['exporter']['api_key']}"}).json()
        assert me["address"] == world.roles["exporter"] and me["can_sign"] is True
        keystore = next((data / "keystores").glob("0x*.json")).read_text()
        assert "crypto" in json.loads(keystore)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)
    process = start_gateway_process(world.rpc_url, world.chain_id, port=port, data_dir=str(data))
    try:
        assert "API keys" not in capsys.readouterr().out  # shown once only
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(20)


def test_no_private_key_appears_in_the_gateway_log_or_database(gateway, world, api):
    from app.runner import derive_private_keys
    from scripts._common import TEST_ROLES

    api.post("exporter", "/v1/payments", json={"currency": "USD", "to": world.roles["importer"], "amount": 1,
                                                "purpose_code": "GDDS", "reference": "log-check"})
    stored = gateway.log_path.read_bytes() + (world.data_dir / "gateway.sqlite3").read_bytes()
    for key in derive_private_keys(TEST_ROLES).values():
        raw = key.removeprefix("0x")
        assert raw.encode() not in stored and bytes.fromhex(raw) not in stored
