"""`app/core/enums.py` mirrors the contracts' enums and discrepancy codes exactly: read from the compiler's AST.

Ape's build (`.build/__local__.json`) keeps ABIs, bytecode and NatSpec but no AST, and forge's artefacts under
`.forge/out` have none either (foundry.toml does not ask for it). So the test asks the project's solc
(`tools/bin/solc`, the compiler Ape and forge use) for the AST alone, with `--standard-json`: every interface under
`contracts/interfaces/` and the contracts that define the `DISCREPANCY_*` constants. Enums come from the AST's
`EnumDefinition` nodes (members in declaration order: comments and layout cannot fool it) and each constant's
value from the type checker (`int_const 4` for `1 << 2`), so an expression the test would have to evaluate
never appears.

A Solidity enum that gains, loses, renames or reorders a member, an enum of `contracts/interfaces` that Python
does not mirror (and `NOT_MIRRORED` does not excuse), or a discrepancy code added, removed or moved to another
bit, fails here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

from app.core import enums
from app.core.enums import DISCREPANCY_PREFIX, SOLIDITY_ENUMS, Discrepancy

ROOT = Path(__file__).resolve().parents[2]
SOLC = ROOT / "tools" / "bin" / "solc"
BUILD = ROOT / ".build" / "__local__.json"
INTERFACES = "contracts/interfaces/"

# Solidity enums the gateway, indexer and scripts have no use for, by canonical name, each with the reason it
# need not be mirrored off chain: `{"IExample.Internal": "only the contract's own bookkeeping; never in an ABI"}`.
NOT_MIRRORED: dict[str, str] = {}


def _sources() -> list[str]:
    """Every interface, and every contract that spells out a discrepancy constant (its value lives there: the
    interface only declares the getter)."""
    interfaces = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / INTERFACES).glob("*.sol"))
    constants = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "contracts").glob("*.sol")
                       if DISCREPANCY_PREFIX in p.read_text())
    return interfaces + constants


def _compile_ast() -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.fail("node is needed to run the project's solc (tools/bin/solc, over solc-js)")
    request = {
        "language": "Solidity",
        "sources": {path: {"urls": [path]} for path in _sources()},
        "settings": {
            "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
            "evmVersion": "cancun",
            "outputSelection": {"*": {"": ["ast"]}},  # no bytecode: analysis only
        },
    }
    done = subprocess.run([str(SOLC), "--standard-json", "--base-path", str(ROOT)], input=json.dumps(request),
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=True)
    output = json.loads(done.stdout)
    errors = [e["formattedMessage"] for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, "\n".join(errors)
    return output["sources"]


@pytest.fixture(scope="module")
def ast_sources() -> dict[str, Any]:
    return _compile_ast()


def _nodes(node: Any, node_type: str) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("nodeType") == node_type:
            yield node
        for child in node.values():
            yield from _nodes(child, node_type)
    elif isinstance(node, list):
        for child in node:
            yield from _nodes(child, node_type)


def _ours(ast_sources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Our own sources' ASTs (not OpenZeppelin's, which the contracts import)."""
    return {path: source["ast"] for path, source in ast_sources.items() if path.startswith("contracts/")}


@pytest.fixture(scope="module")
def solidity_enums(ast_sources: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    """Canonical name (`IInvoiceLiens.InvoiceState`) → (source path, member names in declaration order)."""
    found: dict[str, tuple[str, list[str]]] = {}
    for path, ast in _ours(ast_sources).items():
        for enum in _nodes(ast, "EnumDefinition"):
            found[enum["canonicalName"]] = (path, [m["name"] for m in enum["members"]])
    return found


@pytest.fixture(scope="module")
def discrepancy_constants(ast_sources: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Contract name → {constant name → value} of every `DISCREPANCY_*` constant, as the type checker computed it."""
    found: dict[str, dict[str, int]] = {}
    for ast in _ours(ast_sources).values():
        for contract in _nodes(ast, "ContractDefinition"):
            for variable in _nodes(contract, "VariableDeclaration"):
                if variable.get("constant") and variable["name"].startswith(DISCREPANCY_PREFIX):
                    assert variable["typeDescriptions"]["typeString"] == "uint8", variable["name"]
                    kind, _, value = variable["value"]["typeDescriptions"]["typeString"].partition(" ")
                    assert kind == "int_const", (variable["name"], kind)
                    found.setdefault(contract["name"], {})[variable["name"]] = int(value)
    return found


def test_the_ast_holds_the_enums_and_codes_at_all(solidity_enums, discrepancy_constants):
    """A guard for the test itself: an empty AST would make every comparison below pass."""
    assert len(solidity_enums) >= len(SOLIDITY_ENUMS) and discrepancy_constants


@pytest.mark.parametrize("canonical", sorted(SOLIDITY_ENUMS))
def test_each_python_enum_has_the_solidity_members_in_order(canonical, solidity_enums):
    assert canonical in solidity_enums, f"{canonical} is mirrored in app/core/enums.py but not declared in Solidity"
    path, members = solidity_enums[canonical]
    python = SOLIDITY_ENUMS[canonical]
    assert [(m.name, m.value) for m in python] == list(zip(members, range(len(members)))), (
        f"app/core/enums.py {python.__name__} differs from {canonical} in {path} (names, order or count)")
    assert python.__name__ == canonical.rsplit(".", 1)[1]


def test_every_interface_enum_is_mirrored_or_excused(solidity_enums):
    unmirrored = sorted(name for name, (path, _) in solidity_enums.items()
                        if name not in SOLIDITY_ENUMS and name not in NOT_MIRRORED)
    assert not unmirrored, (f"Solidity enums with no Python mirror: {unmirrored}; add each to app/core/enums.py "
                            "(and SOLIDITY_ENUMS), or to NOT_MIRRORED here with the reason it is not needed off chain")
    from_interfaces = {name for name, (path, _) in solidity_enums.items() if path.startswith(INTERFACES)}
    assert from_interfaces >= set(SOLIDITY_ENUMS) - set(NOT_MIRRORED)


def test_not_mirrored_entries_exist_and_say_why(solidity_enums):
    for name, reason in NOT_MIRRORED.items():
        assert name in solidity_enums, f"NOT_MIRRORED names {name}, which Solidity no longer declares"
        assert name not in SOLIDITY_ENUMS, f"{name} is both mirrored and excused"
        assert reason.strip(), f"NOT_MIRRORED gives no reason for {name}"


def test_every_enum_of_the_module_is_registered():
    """An enum added to app/core/enums.py but left out of SOLIDITY_ENUMS would escape the comparison."""
    defined = {v for v in vars(enums).values()
               if isinstance(v, type) and issubclass(v, IntEnum) and v.__module__ == enums.__name__}
    assert defined == set(SOLIDITY_ENUMS.values())


def test_discrepancy_codes_match_the_constants(ast_sources, discrepancy_constants):
    declared = {f["name"] for path, ast in _ours(ast_sources).items() if path.startswith(INTERFACES)
                for f in _nodes(ast, "FunctionDefinition") if f["name"].startswith(DISCREPANCY_PREFIX)}
    python = {DISCREPANCY_PREFIX + code.name: code.value for code in Discrepancy}
    assert declared == set(python), "the interface's DISCREPANCY_* getters differ from app/core/enums.py Discrepancy"
    for contract, constants in discrepancy_constants.items():
        assert constants == python, f"{contract}'s DISCREPANCY_* constants differ from Discrepancy"
    for name, value in python.items():
        assert value > 0 and value & (value - 1) == 0 and value < 1 << 8, f"{name} is not one bit of a uint8"


def test_the_ast_comes_from_the_compiler_of_the_build():
    """The AST above is the project's solc; Ape's build must be from the same compiler version."""
    if not BUILD.is_file():
        pytest.skip("no Ape build (.build/__local__.json): `ape compile` first")
    built = {c["version"].split("+")[0] for c in json.loads(BUILD.read_text()).get("compilers", [])
             if c.get("name") == "solidity"}
    shim = subprocess.run([str(SOLC), "--version"], capture_output=True, text=True, check=True).stdout
    assert built and all(f"Version: {v}" in shim for v in built), (built, shim)


def test_every_enum_in_the_built_abis_is_mirrored():
    """The ABIs the gateway and scripts actually decode (Ape's build) type each enum argument as
    `enum <Interface>.<Enum>`: each of those is mirrored."""
    if not BUILD.is_file():
        pytest.skip("no Ape build (.build/__local__.json): `ape compile` first")
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            internal = node.get("internalType")
            if isinstance(internal, str) and internal.startswith("enum "):
                found.add(internal.removeprefix("enum ").removesuffix("[]"))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for contract_type in json.loads(BUILD.read_text())["contractTypes"].values():
        walk(contract_type.get("abi", []))
    assert found and found <= set(SOLIDITY_ENUMS) | set(NOT_MIRRORED), sorted(found - set(SOLIDITY_ENUMS))
