"""Indexer and supervision settings, from the environment (prefix `TRADEFIN_INDEXER_`).

Kept apart from the gateway's `Settings` so the read side tunes itself without touching the write side;
the chain, database and deployment come from the gateway's `Settings`.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IndexerSettings(BaseSettings):
    """Environment variables `TRADEFIN_INDEXER_<FIELD>` (e.g. `TRADEFIN_INDEXER_CONFIRMATIONS=12`)."""

    model_config = SettingsConfigDict(env_prefix="TRADEFIN_INDEXER_", env_file=None, extra="ignore")

    enabled: bool = Field(True, description="Run the indexer inside the gateway process")
    confirmations: int = Field(0, ge=0, description="Index only blocks this many below the head")
    reorg_window: int = Field(128, ge=1, description="Blocks below the head whose changes stay journaled "
                                                     "so a reorganisation can roll them back")
    max_range_blocks: int = Field(5_000, ge=1, description="Largest block range asked of eth_getLogs")
    max_logs_per_range: int = Field(20_000, ge=100, description="Shrink the range when one answer had more logs")
    poll_seconds: float = Field(0.25, gt=0, description="Pause between polls once caught up")
    block_batch: int = Field(100, ge=1, description="Blocks fetched per JSON-RPC batch")
    rpc_timeout_seconds: float = 30.0

    # Supervision rules (app.indexer.alerts). Amounts are in minor units of the transfer's currency.
    structuring_margin: float = Field(0.10, gt=0, lt=1, description="'Just under' = within this share "
                                                                    "below the large-value threshold")
    structuring_min_count: int = Field(3, ge=2, description="Transfers just under the threshold that make "
                                                            "structuring")
    structuring_window_seconds: int = Field(86_400, ge=1)
    round_trip_window_seconds: int = Field(86_400, ge=1)
    round_trip_min_ratio: float = Field(0.9, gt=0, le=1, description="B→A returns at least this share of A→B")
    round_trip_min_amount: int = Field(100_000_00, ge=1, description="Smallest A→B amount considered")
    burst_window_seconds: int = Field(60, ge=1)
    burst_max_transfers: int = Field(20, ge=1, description="More transfers than this from one party within "
                                                           "the window is a burst")
    concentration_max_share: float = Field(0.5, gt=0, le=1, description="One seller's share of the "
                                                                        "financed amount above this alerts")
    alert_quiet_seconds: int = Field(86_400, ge=0, description="After an alert, the same rule stays quiet "
                                                               "for the same subject this long")
    concentration_min_total: int = Field(1_000_000_00, ge=0, description="Only once this much is financed "
                                                                         "in the currency")
