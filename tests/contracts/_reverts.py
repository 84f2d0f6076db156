"""`reverts_with`: `ape.reverts(ContractError, **inputs)` that also works for nested errors.

Ape decodes a custom error only with the ABI of the contract the transaction called. An error raised
deeper in the call (the participant registry or a settlement token, reached through an instrument)
arrives as a plain `ContractLogicError` holding the raw revert data, and `ape.reverts` then accepts
*any* revert without checking the error or its inputs. This helper checks the selector and the inputs
itself, so a test fails when the wrong error comes back.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ape
from ape.exceptions import CustomError
from eth_abi import decode
from eth_utils import keccak
from hexbytes import HexBytes


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, str) and isinstance(actual, str):
        return expected.lower() == actual.lower()
    if isinstance(expected, (bytes, bytearray)) and isinstance(actual, (bytes, bytearray)):
        return bytes(expected) == bytes(actual)
    return expected == actual


def _revert_data(exc: Any) -> bytes:
    """The raw revert data of `exc`: Ape gives it as hex (`0x...`) or, for some nested reverts on
    eth-tester, as the repr of a bytes object (`b"..."`)."""
    message = str(getattr(exc, "revert_message", "") or "")
    if message.startswith(("b'", 'b"')):
        return ast.literal_eval(message)
    try:
        return bytes(HexBytes(message or "0x"))
    except ValueError:
        return b""


@contextmanager
def reverts_with(error: Any, **inputs: Any) -> Iterator[Any]:
    """Expect a revert with the custom error `error` (e.g. `registry.ParticipantRegistryUnknownParticipant`)
    and, for each keyword, that input's value."""
    abi = error.abi
    with ape.reverts() as info:
        yield info
    exc = info.value
    if isinstance(exc, CustomError) and type(exc).__name__ == abi.name:
        decoded = dict(exc.inputs)
    else:
        data = _revert_data(exc)
        selector = keccak(text=abi.selector)[:4]
        assert data[:4] == selector, f"expected {abi.name}, got revert data {data.hex() or repr(exc)}"
        values = decode([i.canonical_type for i in abi.inputs], data[4:])
        decoded = {i.name: v for i, v in zip(abi.inputs, values)}
    for name, expected in inputs.items():
        assert _same(expected, decoded[name]), f"{abi.name}.{name}: expected {expected!r}, got {decoded[name]!r}"
