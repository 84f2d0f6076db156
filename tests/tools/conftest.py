"""Tests of the project's tools: plain Python, no chain."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _every_role_first():
    """Overrides the contract tests' autouse fixture: these tests need no accounts and no chain."""
