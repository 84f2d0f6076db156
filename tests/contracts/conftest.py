"""The contract suites share one deployed world: it is deployed once per session, before the first module's
snapshot, and every module starts from the chain as it was then, since Ape's module isolation reverts what a
module did (and its function isolation what a test did)."""

from __future__ import annotations

import pytest

from scripts._common import Platform, deploy_test_world


@pytest.fixture(scope="session")
def platform(project, chain, role_accounts) -> Platform:
    """Every contract deployed, the demo world registered and KYC'd, every party funded."""
    return deploy_test_world(project, chain, role_accounts)


@pytest.fixture(scope="session")
def registry(platform):
    return platform["ParticipantRegistry"]


@pytest.fixture(scope="session")
def usd(platform):
    return platform["SettlementTokenUSD"]


@pytest.fixture(scope="session")
def cny(platform):
    return platform["SettlementTokenCNY"]


@pytest.fixture(scope="session")
def eur(platform):
    return platform["SettlementTokenEUR"]


@pytest.fixture(scope="session", autouse=True)
def _world_first(_every_role_first, platform, registry, usd, cny, eur):
    """The world exists before the first module snapshot: a session fixture first requested mid-module would
    make Ape "rebase" (revert and set it up again)."""
