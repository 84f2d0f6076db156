"""Shared pieces of the bank and corporate Ape scripts: deployment lookup, exit codes, revert names.

Exit codes a scheduler relies on: 0 done, 1 refused (a contract reverted: its custom error's name is
printed), 2 usage error (click's own, or a missing deployment or contract).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from decimal import Decimal
from functools import wraps
from typing import Any, NoReturn

import click
from eth_abi import decode
from eth_abi.exceptions import DecodingError
from eth_utils import keccak
from hexbytes import HexBytes

EXIT_DONE, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def fail_usage(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def load_contracts(chain_id: int, names: tuple[str, ...]) -> dict[str, Any]:
    """The deployed contracts of `chain_id` named in `names` (plus every other recorded one, for
    decoding errors), from `scripts._common.load_deployment`. Exits 2 when one is missing."""
    from ape import project

    from scripts import _common

    deployment = _common.load_deployment(chain_id)
    if deployment is None:
        fail_usage(f"no deployment recorded for chain {chain_id} (run the deployment first)")
    addresses: dict[str, str] = deployment["contracts"]
    contracts: dict[str, Any] = {}
    for name, address in addresses.items():
        contract_type = "SettlementToken" if name.startswith("SettlementToken") else name
        container = getattr(project, contract_type, None)
        if container is None:  # a failed compile: say so rather than act on fewer contracts
            fail_usage(f"the build has no contract type {contract_type}: compile the contracts again")
        contracts[name] = container.at(address)
    for name in names:
        if name not in contracts:
            fail_usage(f"{name} is not deployed on chain {chain_id}")
    return contracts


def _revert_data(exc: Any) -> bytes:
    message = str(getattr(exc, "revert_message", "") or getattr(exc, "message", "") or "")
    if message.startswith(("b'", 'b"')):
        return ast.literal_eval(message)
    try:
        return bytes(HexBytes(message))
    except ValueError:
        return b""


def revert_name(exc: Exception) -> str:
    """The custom error's name behind `exc`, decoded by selector from every contract type of the project
    (Ape decodes only the called contract's own errors)."""
    from ape.exceptions import CustomError

    if isinstance(exc, CustomError):
        return type(exc).__name__
    return _selector_name(exc) or str(getattr(exc, "revert_message", None) or exc)


def refuse(exc: Exception) -> NoReturn:
    """Print the refusal and exit 1."""
    click.echo(f"refused: {revert_name(exc)}", err=True)
    sys.exit(EXIT_REFUSED)


def print_json(payload: dict[str, Any]) -> None:
    click.echo(json.dumps(payload, indent=2, sort_keys=False))


# ───────────────────────────── Desk commands (bank_financing, bank_lc) ─────────────────────────────


class Refused(Exception):
    """A precondition the contract would enforce failed; nothing was sent."""


yes_option = click.option("--yes", is_flag=True, help="Do not ask for confirmation.")


class DeskToken:
    """A settlement token as a desk command shows and moves it: the contract (`contract`), and its ISO 4217 code
    and `decimals()`, each read from the chain once, when the command first needs the token."""

    def __init__(self, address: str) -> None:
        from ape import Contract, project

        self.contract = Contract(address, contract_type=project.SettlementToken.contract_type)
        self.code = bytes(self.contract.currency()).decode("ascii", "replace")
        self.decimals: int = self.contract.decimals()

    def show(self, amount: int) -> str:
        """`USD 1,234.56 (123456 minor units)`: exact, never through a float."""
        return f"{self.code} {Decimal(amount).scaleb(-self.decimals):,.{self.decimals}f} ({amount} minor units)"


def desk_command(f: Callable[..., None]) -> Callable[..., None]:
    """Maps outcomes to exit codes: a refusal before sending or a revert is 1, with the reason printed."""
    from ape.exceptions import ContractLogicError

    @wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            f(*args, **kwargs)
        except Refused as refusal:
            click.echo(f"REFUSED: {refusal}", err=True)
            sys.exit(EXIT_REFUSED)
        except ContractLogicError as revert:
            click.echo(f"REVERTED: {describe_revert(revert)}", err=True)
            sys.exit(EXIT_REFUSED)

    return wrapper


def describe_revert(revert: Exception) -> str:
    """`LetterOfCreditNotMatured(lcId=1, presentationId=2, maturityDate=...)` for a custom error Ape decoded;
    errors of the contracts an instrument calls (registry, token) are found by their selector among every
    contract type of the project and decoded the same way. A role reads as its name
    (`AccessControlUnauthorizedAccount(account=0x..., neededRole=BANK_ROLE)`)."""
    inputs = getattr(revert, "inputs", None)
    if inputs is not None:
        return _describe(type(revert).__name__, dict(inputs))
    nested = _selector_error(revert)
    if nested is not None:
        abi, data = nested
        try:
            values = decode([i.canonical_type for i in abi.inputs], data[4:])
        except (DecodingError, OverflowError, UnicodeDecodeError):
            # Malformed arguments (short or badly padded data, a length past any memory, text not UTF-8): the
            # name still says what happened.
            return abi.name
        return _describe(abi.name, {i.name: v for i, v in zip(abi.inputs, values)})
    return str(getattr(revert, "message", None) or revert)


# The AccessControl roles of `contracts/libraries/Roles.sol`, by hash, to name them in refusals.
_ROLE_NAMES = {keccak(text=name): name for name in (
    "OPERATOR_ROLE", "REGULATOR_ROLE", "BANK_ROLE", "ATTESTER_ROLE", "CORPORATE_ROLE", "INSTRUMENT_ROLE",
    "CUSTOMS_ROLE",
)}


def _describe(name: str, arguments: dict[str, Any]) -> str:
    def show(value: Any) -> str:
        if isinstance(value, (bytes, bytearray)):
            return _ROLE_NAMES.get(bytes(value)) or "0x" + bytes(value).hex()
        return str(value)

    return f"{name}({', '.join(f'{k}={show(v)}' for k, v in arguments.items())})"


def _selector_name(exc: Exception) -> str | None:
    """The name of the custom error whose selector starts the revert data of `exc`, if any contract of the
    project declares it."""
    nested = _selector_error(exc)
    return nested[0].name if nested is not None else None


def _selector_error(exc: Exception) -> tuple[Any, bytes] | None:
    """The ABI of the custom error whose selector starts the revert data of `exc`, and that data."""
    data = _revert_data(exc)
    abi = _project_errors().get(data[:4]) if len(data) >= 4 else None
    return (abi, data) if abi is not None else None


def _project_errors() -> dict[bytes, Any]:
    from ape import project

    errors: dict[bytes, Any] = {}
    for contract_type in project.contracts.values():
        for abi in contract_type.contract_type.errors:
            errors.setdefault(keccak(text=abi.selector)[:4], abi)
    return errors
