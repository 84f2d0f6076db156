"""Fixtures shared by every Ape test: the accounts of the demo world of DESIGN §1, named by role (ApePay
style); `outsider` is never registered. The contract tests' deployed world is in tests/contracts/conftest.py.
Time comes from the chain.
"""

from __future__ import annotations

import ape_lean
import pytest

from scripts._common import INITIAL_BALANCE, TEST_ROLES, accounts_by_role

__all__ = ["INITIAL_BALANCE"]


def pytest_configure(config: pytest.Config) -> None:
    """Ape's test plugin without the work no test reads (tests/ape_lean.py); plain-Python suites run without it."""
    if config.pluginmanager.has_plugin("ape_test"):
        ape_lean.install()


@pytest.fixture(scope="session")
def role_accounts(accounts):
    return accounts_by_role(accounts)


def _role_fixture(name: str):
    @pytest.fixture(scope="session", name=name)
    def _fixture(role_accounts):
        return role_accounts[name]

    return _fixture


for _role in TEST_ROLES:
    globals()[_role] = _role_fixture(_role)


@pytest.fixture
def new_wallet(accounts, operator):
    """A factory of fresh accounts, funded with ether for gas and unknown to the registry (beyond the
    test world's twelve: e.g. a further wallet of a legal identity, or one more bank)."""

    def make():
        account = accounts.generate_test_account()
        operator.transfer(account, 10**18)
        return account

    return make


@pytest.fixture(scope="session", autouse=True)
def _every_role_first(operator, regulator, bank_cn, bank_us, exporter, importer, attester,
                      supplier1, supplier2, supplier3, exporter2, outsider):
    """Every role fixture is set up before the first chain snapshot. A session fixture first requested
    mid-module makes Ape "rebase" (warn InvalidIsolationWarning, revert, and deploy the module's
    platform again), which costs seconds per occurrence."""
