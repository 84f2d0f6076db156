"""Gateway settings: one pydantic-settings class, read from the environment (prefix `TRADEFIN_`).

Everything the gateway needs to find its chain, its database and its keys lives here. Secrets have no
usable default outside development: `Settings` refuses to start with the development passphrase when
`environment` is not `development`.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]
DEVELOPMENT_PASSPHRASE = "tradefin-development-only"


class Settings(BaseSettings):
    """Environment variables `TRADEFIN_<FIELD>` (e.g. `TRADEFIN_RPC_URL`)."""

    model_config = SettingsConfigDict(env_prefix="TRADEFIN_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
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
    stuck_after_seconds: float = 1.0
    max_batch: int = 64
    gas_multiplier: float = 1.25
    rpc_timeout_seconds: float = 30.0
    rpc_max_in_flight: int = Field(
        default=2, ge=1, description="JSON-RPC requests to the node at once; batches asked for meanwhile are "
        "merged into the next request")

    opentelemetry: bool = Field(
        default=False, description="FastAPI's native OpenTelemetry traces, metrics and logs, exported through the "
        "global providers configured by the environment (OTEL_*)")

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "Settings":
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


def get_settings() -> Settings:
    return Settings()
