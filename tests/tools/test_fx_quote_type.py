"""The EIP-712 quote type of `app/core/fx_quotes.py` is `IPaymentRouter.FxQuote` of the compiled contracts: the same
fields, in the same order, of the same types (the order and types are part of `FX_QUOTE_TYPEHASH`).

Read from Ape's build (`.build/__local__.json`), whose ABI carries each struct argument's components. The digest
itself (type, domain and encoding together) is compared with the router's `hashQuote` on chain by
`tests/contracts/test_payment_router.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.fx_quotes import FX_QUOTE_TYPE

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / ".build" / "__local__.json"
STRUCT = "struct IPaymentRouter.FxQuote"


def _struct_arguments(node: Any) -> Iterator[list[dict[str, Any]]]:
    """The components of every ABI parameter typed `STRUCT`, anywhere under `node`."""
    if isinstance(node, dict):
        if node.get("internalType") == STRUCT:
            yield node["components"]
        for child in node.values():
            yield from _struct_arguments(child)
    elif isinstance(node, list):
        for child in node:
            yield from _struct_arguments(child)


def test_the_quote_type_is_the_routers_struct():
    if not BUILD.is_file():
        pytest.skip("no Ape build (.build/__local__.json): `ape compile` first")
    abi = json.loads(BUILD.read_text())["contractTypes"]["PaymentRouter"]["abi"]
    structs = list(_struct_arguments(abi))
    assert structs, f"PaymentRouter's ABI has no {STRUCT} argument"
    for components in structs:
        assert [{"name": c["name"], "type": c["type"]} for c in components] == FX_QUOTE_TYPE
