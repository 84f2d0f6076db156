"""Fixtures shared by every contract test: the demo world of DESIGN §1, deployed fresh per module.

Accounts are named by role (ApePay style). Time always comes from the chain.
"""

from __future__ import annotations

import pytest

from scripts._common import (
    CURRENCIES,
    KIND_CORPORATE,
    ONE_YEAR,
    Platform,
    bootstrap_world,
    deploy_platform,
    identity_hash,
    jurisdiction,
    text_hash,
    KYC_APPROVED,
)

ROLES = ("operator", "regulator", "bank_cn", "bank_us", "exporter", "importer", "attester")
# Further corporates for supply chains and counterparties, registered and KYC'd like the exporter.
EXTRA_CORPORATES = {"supplier1": "CN", "supplier2": "CN", "supplier3": "VN", "exporter2": "DE"}
INITIAL_BALANCE = 10_000_000_00  # 10 million in minor units, per currency, per bank and corporate


@pytest.fixture(scope="session")
def role_accounts(accounts):
    names = ROLES + tuple(EXTRA_CORPORATES) + ("outsider",)
    return {name: accounts[i] for i, name in enumerate(names)}


@pytest.fixture(scope="session")
def operator(role_accounts):
    return role_accounts["operator"]


@pytest.fixture(scope="session")
def regulator(role_accounts):
    return role_accounts["regulator"]


@pytest.fixture(scope="session")
def bank_cn(role_accounts):
    return role_accounts["bank_cn"]


@pytest.fixture(scope="session")
def bank_us(role_accounts):
    return role_accounts["bank_us"]


@pytest.fixture(scope="session")
def exporter(role_accounts):
    return role_accounts["exporter"]


@pytest.fixture(scope="session")
def importer(role_accounts):
    return role_accounts["importer"]


@pytest.fixture(scope="session")
def attester(role_accounts):
    return role_accounts["attester"]


@pytest.fixture(scope="session")
def supplier1(role_accounts):
    return role_accounts["supplier1"]


@pytest.fixture(scope="session")
def supplier2(role_accounts):
    return role_accounts["supplier2"]


@pytest.fixture(scope="session")
def supplier3(role_accounts):
    return role_accounts["supplier3"]


@pytest.fixture(scope="session")
def exporter2(role_accounts):
    return role_accounts["exporter2"]


@pytest.fixture(scope="session")
def outsider(role_accounts):
    """An account that is not a participant."""
    return role_accounts["outsider"]


@pytest.fixture(scope="module")
def platform(project, chain, role_accounts) -> Platform:
    """Every contract deployed, the demo world registered and KYC'd, every party funded."""
    operator = role_accounts["operator"]
    deployed = deploy_platform(project, operator, chain.chain_id)
    kyc_expiry = chain.pending_timestamp + 5 * ONE_YEAR
    bootstrap_world(deployed, role_accounts, kyc_expiry)
    registry = deployed["ParticipantRegistry"]
    for name, code in EXTRA_CORPORATES.items():
        account = role_accounts[name]
        registry.registerParticipant(
            account.address, KIND_CORPORATE, jurisdiction(code), identity_hash(f"USCC-{name}"), sender=operator
        )
        registry.attestKyc(
            account.address, KYC_APPROVED, kyc_expiry, text_hash(f"kyc:{name}"), sender=role_accounts["bank_cn"]
        )
    for code in CURRENCIES:
        token = deployed[f"SettlementToken{code}"]
        for name in ("bank_cn", "bank_us"):
            token.mint(role_accounts[name].address, INITIAL_BALANCE, text_hash(f"reserve:{name}:{code}"),
                       sender=role_accounts[name])
        for name in ("exporter", "importer", *EXTRA_CORPORATES):
            token.mint(role_accounts[name].address, INITIAL_BALANCE, text_hash(f"deposit:{name}:{code}"),
                       sender=role_accounts["bank_cn"])
    return deployed


@pytest.fixture(scope="module")
def registry(platform):
    return platform["ParticipantRegistry"]


@pytest.fixture(scope="module")
def usd(platform):
    return platform["SettlementTokenUSD"]


@pytest.fixture(scope="module")
def cny(platform):
    return platform["SettlementTokenCNY"]


@pytest.fixture(scope="module")
def eur(platform):
    return platform["SettlementTokenEUR"]
