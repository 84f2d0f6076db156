"""Unit tests of the gateway's pure parts (ABI codecs, error tables, the signer): plain Python, no chain, no
gateway, so they run without Ape's pytest plugin (`-p no:ape_test`), which costs seconds to load."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def _every_role_first():
    """Overrides the contract tests' autouse fixture: these tests need no accounts and no chain."""
