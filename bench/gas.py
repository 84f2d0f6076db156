"""Gas per operation on a fresh Anvil, against the budgets of the issues.

Run: .venv/bin/python bench/gas.py

Each domain measures its own operations in `bench/_gas_<domain>.py`, which defines
`BUDGETS: dict[str, int]` and `measure(platform, roles, chain) -> dict[str, int]` (gas used per key).
Prints a table, then one JSON object of every figure as the last line.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.env import use_project_toolchain

ROOT = use_project_toolchain()


def gas_modules():
    for path in sorted((ROOT / "bench").glob("_gas_*.py")):
        yield importlib.import_module(f"bench.{path.stem}")


def main() -> int:
    from ape import accounts, chain, networks, project

    from scripts._common import accounts_by_role, deploy_test_world

    figures: dict[str, int] = {}
    budgets: dict[str, int] = {}
    with networks.parse_network_choice("ethereum:local:foundry"):
        roles = accounts_by_role(accounts.test_accounts)
        platform = deploy_test_world(project, chain, roles)
        for module in gas_modules():
            budgets.update(getattr(module, "BUDGETS", {}))
            figures.update(module.measure(platform, roles, chain))

    over = []
    print(f"{'operation':<40} {'gas used':>10} {'budget':>10}  ")
    for key, gas in figures.items():
        budget = budgets.get(key)
        verdict = "" if budget is None else ("ok" if gas <= budget else "OVER")
        if verdict == "OVER":
            over.append(key)
        print(f"{key:<40} {gas:>10,} {budget if budget is not None else '-':>10}  {verdict}")
    from ape.logging import logger

    logger.set_level("ERROR")  # Ape logs "Stopping 'anvil' process" at exit; the JSON must stay last
    print(json.dumps(figures))
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
