"""Shared pieces of the bank and corporate Ape scripts: deployment lookup, exit codes, revert names.

Exit codes a scheduler relies on: 0 done, 1 refused (a contract reverted: its custom error's name is
printed), 2 usage error (click's own, or a missing deployment or contract).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click
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
        if container is not None:
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
    errors of the contracts an instrument calls (registry, token) are named by their selector from every
    contract type of the project."""
    inputs = getattr(revert, "inputs", None)
    if inputs is not None:
        arguments = ", ".join(f"{k}={v}" for k, v in inputs.items())
        return f"{type(revert).__name__}({arguments})"
    return _selector_name(revert) or str(getattr(revert, "message", None) or revert)


def _selector_name(exc: Exception) -> str | None:
    """The name of the custom error whose selector starts the revert data of `exc`, if any contract of the
    project declares it."""
    data = _revert_data(exc)
    return _project_error_selectors().get(data[:4]) if len(data) >= 4 else None


def _project_error_selectors() -> dict[bytes, str]:
    from ape import project

    selectors: dict[bytes, str] = {}
    for contract_type in project.contracts.values():
        for abi in contract_type.contract_type.errors:
            selectors.setdefault(keccak(text=abi.selector)[:4], abi.name)
    return selectors
