"""Gateway settings: one pydantic-settings class, read from the environment (prefix `TRADEFIN_`).

Everything the gateway needs to find its chain, its database and its keys lives here. The environment is
`development` unless `TRADEFIN_ENVIRONMENT` says otherwise (`test`, `production`). Secrets have no usable
default outside development: there `Settings` refuses to start unless `TRADEFIN_KEYSTORE_PASSPHRASE` is set,
to something other than the development passphrase; `load_settings` turns that refusal into a one-line
message and a non-zero exit at start-up.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_PASSPHRASE = "tradefin-development-only"


class Settings(BaseSettings):
    """Environment variables `TRADEFIN_<FIELD>` (e.g. `TRADEFIN_RPC_URL`)."""

    model_config = SettingsConfigDict(env_prefix="TRADEFIN_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", description="Outside development the keystore passphrase must be set (and not "
        "to the development value), or the gateway and the indexer refuse to start")
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = 31337
    data_dir: Path = ROOT / ".data"
    database_url: str | None = Field(
        default=None, description="Any SQLAlchemy URL; default SQLite (WAL) at <data_dir>/gateway.sqlite3"
    )
    deployment_file: Path | None = Field(
        default=None, description="Addresses of the deployed contracts; default <data_dir>/deployments/<chain_id>.json"
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL", description="FULL: a stored transaction survives a power cut (one fsync per group "
        "commit); NORMAL: it survives a process crash only")
    build_file: Path = ROOT / ".build" / "__local__.json"
    keystore_passphrase: SecretStr = SecretStr(DEVELOPMENT_PASSPHRASE)
    # scrypt cost of keystores the gateway writes (2**18 is eth-account's default; tests use less).
    keystore_scrypt_n: int = 2**18

    # Chain client tuning.
    receipt_poll_seconds: float = 0.005
    receipt_timeout_seconds: float = 30.0
    # Signed requests (ERC-2771, app/services/signed_requests.py): the relayers whose keystores the gateway holds
    # and which send participants' signed requests (JSON list of addresses), and how long a prepared request stays
    # executable and keeps its forwarder nonce reserved (chain time).
    relayers: list[str] = Field(default_factory=list)
    signed_request_ttl_seconds: int = Field(900, ge=60, le=86_400)
    stuck_after_seconds: float = 1.0
    max_batch: int = 64
    gas_multiplier: float = 1.25
    rpc_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Longest wait for the node's answer to one JSON-RPC request (connect, send, "
        "read); a request past it counts toward opening the circuit")
    rpc_circuit_failures: int = Field(
        default=3, ge=1, description="Consecutive JSON-RPC requests the node leaves unanswered (timeout, refused "
        "connection) before the gateway stops asking it: writes and reads answer 503 at once with Retry-After")
    rpc_circuit_cooldown_seconds: float = Field(
        default=5.0, gt=0, description="How long an open circuit stays open; then one probe (eth_chainId) decides "
        "whether it closes")
    fee_bump_limit: int = Field(
        default=5, ge=0, description="Fee-bumped replacements of one stuck transaction at most; then one alert "
        "in the log and no further bumps")
    fee_bump_max_gwei: int = Field(
        default=500, ge=1, le=1_000_000, description="Highest max fee per gas (gwei) a fee-bumped replacement may "
        "offer (at most 10^6 gwei: fees stay far inside the outbox's 64-bit columns)")
    rpc_max_in_flight: int = Field(
        default=2, ge=1, description="JSON-RPC requests to the node at once; batches asked for meanwhile are "
        "merged into the next request")

    opentelemetry: bool = Field(
        default=False, description="FastAPI's native OpenTelemetry traces, metrics and logs, exported through the "
        "global providers configured by the environment (OTEL_*)")

    max_json_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest JSON request body; a larger one answers 413 "
        "RequestBodyTooLarge without being read (document uploads have their own, larger limit)")

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.environment != "development" and "keystore_passphrase" not in self.model_fields_set:
            raise ValueError(
                f"no keystore passphrase is set: TRADEFIN_KEYSTORE_PASSPHRASE is required outside development "
                f"(TRADEFIN_ENVIRONMENT={self.environment}); the development passphrase is used only when "
                "TRADEFIN_ENVIRONMENT=development"
            )
        if self.environment != "development" and self.keystore_passphrase.get_secret_value() == DEVELOPMENT_PASSPHRASE:
            raise ValueError(
                "TRADEFIN_KEYSTORE_PASSPHRASE must be set to a real secret outside development "
                f"(environment={self.environment})"
            )
        if len(self.keystore_passphrase.get_secret_value()) < 12:
            raise ValueError("TRADEFIN_KEYSTORE_PASSPHRASE must be at least 12 characters")
        return self

    @cached_property
    def keystore_dir(self) -> Path:
        return self.data_dir / "keystores"

    @cached_property
    def documents_dir(self) -> Path:
        return self.data_dir / "documents"

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'gateway.sqlite3'}"

    @cached_property
    def resolved_deployment_file(self) -> Path:
        return self.deployment_file or self.data_dir / "deployments" / f"{self.chain_id}.json"

    @cached_property
    def api_keys_file(self) -> Path:
        return self.data_dir / "gateway-api-keys.json"


# `TRADEFIN_*` variables read by the project's tools rather than by a process's settings (the devnet's port,
# Hardhat's folder and genesis date, the invariant benchmark, the home-folder check).
TOOL_VARIABLES = frozenset({"TRADEFIN_RPC_PORT", "TRADEFIN_HARDHAT_DIR", "TRADEFIN_GENESIS_DATE",
                            "TRADEFIN_INVARIANT_CALLS", "TRADEFIN_CHECK_HOME"})


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """`TRADEFIN_*` variables that no setting and no tool reads, each with the setting it probably meant. A
    misspelt name would otherwise be ignored silently, e.g. `TRADEFIN_ENVIROMENT=production` running the
    gateway in development."""
    from app.indexer.config import IndexerSettings

    known = {f"TRADEFIN_{name.upper()}" for name in Settings.model_fields} | TOOL_VARIABLES | {
        f"TRADEFIN_INDEXER_{name.upper()}" for name in IndexerSettings.model_fields}
    unknown = []
    for name in sorted(n.upper() for n in environ if n.upper().startswith("TRADEFIN_")):
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            unknown.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return unknown


def load_settings() -> Settings:
    """`Settings()` at a process's start: a refused setting (e.g. no keystore passphrase outside development)
    or a `TRADEFIN_*` variable nobody reads (a misspelt setting) exits with one line saying which and why (exit
    status 1), not a traceback."""
    unknown = unknown_variables(os.environ)
    if unknown:
        raise SystemExit(f"tradefin: refusing to start: unknown setting {', '.join(unknown)}; the settings are "
                         "listed in app/core/config.py and app/indexer/config.py")
    try:
        return Settings()
    except ValidationError as exc:
        reasons = "; ".join(
            (f"TRADEFIN_{str(error['loc'][0]).upper()}: " if error["loc"] else "")
            + str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        raise SystemExit(f"tradefin: refusing to start: {reasons}") from None
