"""Ape scripts run in-process (click's CliRunner) on the chain the contract tests already use."""

from __future__ import annotations

from typing import Any

import click
from ape.managers.chain import ChainManager
from click.testing import CliRunner, Result


def invoke(chain: Any, cli: click.Command, argv: list[str], **kwargs: Any) -> Result:
    """Run `cli` with `argv`. An Ape `ConnectedProviderCommand` that connects a provider of its own, and then
    finds this session's provider already connected, disconnects its own again, and a disconnect empties Ape's
    list of snapshots for the chain: the per-test and per-module restores that follow would find nothing to
    restore and silently keep the test's state, for every later module of the session. The list is put back
    (the chain itself, and the snapshots the node holds, are untouched by the script's connection)."""
    snapshots = ChainManager._snapshots
    kept = list(snapshots[chain.chain_id])
    try:
        return CliRunner().invoke(cli, argv, catch_exceptions=False, **kwargs)
    finally:
        snapshots[chain.chain_id] = kept
