"""The contracts carry no `console.log`: it is a development aid that must not reach a bank's chain, and the Ape
suites skip Ape's per-transaction search for console lines because of it (tests/ape_lean.py)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = re.compile(r'import\s+[^;]*["\'][^"\']*console2?\.sol["\']|\bconsole2?\.log\w*\s*\(')


def test_no_contract_imports_or_calls_console() -> None:
    sources = sorted((ROOT / "contracts").rglob("*.sol"))
    assert sources, "no Solidity sources found under contracts/"
    offenders = [str(path.relative_to(ROOT)) for path in sources
                 if ".cache" not in path.parts and CONSOLE.search(path.read_text())]
    assert offenders == []


def test_the_pattern_finds_what_it_looks_for() -> None:
    assert CONSOLE.search('import "hardhat/console.sol";')
    assert CONSOLE.search('import {console2} from "forge-std/console2.sol";')
    assert CONSOLE.search("console.logUint(x);")
    assert not CONSOLE.search("// consoles are not logged")
