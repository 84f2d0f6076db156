"""The chain client's modules import one way: no module of `app/chain` imports, directly or through others, a
module that imports it back, and none of them imports the gateway's layers above (api, services, main).

Read from the source with `ast` (every import, also those under `if TYPE_CHECKING:` or inside a function: a
cycle hidden there is still a cycle of the design), then each module is imported for real.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAIN = ROOT / "app" / "chain"
MODULES = sorted(f"app.chain.{p.stem}" for p in CHAIN.glob("*.py") if p.stem != "__init__")
ABOVE_THE_CHAIN = ("app.api", "app.services", "app.main", "app.runner", "app.indexer")


def imports_of(module: str) -> set[str]:
    """Every module `module` imports (`from app.chain import x` counts as `app.chain.x`)."""
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def chain_graph() -> dict[str, set[str]]:
    return {m: {i for i in imports_of(m) if i in MODULES and i != m} for m in MODULES}


def test_the_chain_modules_are_found():
    assert {"app.chain.client", "app.chain.lane", "app.chain.tracker", "app.chain.outbox"} <= set(MODULES)
    assert "app.chain.nonces" not in MODULES  # the lane's module is named after what it holds


def test_no_import_cycle_among_the_chain_modules():
    graph = chain_graph()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycle = path[path.index(target):] + [module, target] if target in path else [module, target]
                pytest.fail("import cycle: " + " → ".join(dict.fromkeys(cycle)) + f" → {target}")
            if target not in state:
                visit(target, path + [module])
        state[module] = "done"

    for module in MODULES:
        if module not in state:
            visit(module, [])


def test_lane_and_tracker_do_not_know_the_client():
    graph = chain_graph()
    for module in ("app.chain.lane", "app.chain.tracker", "app.chain.fees", "app.chain.outbox"):
        assert "app.chain.client" not in graph[module], module
    assert "app.chain.lane" not in graph["app.chain.tracker"]


def test_the_chain_layer_imports_nothing_above_it():
    for module in MODULES:
        above = sorted(i for i in imports_of(module) if i.startswith(ABOVE_THE_CHAIN))
        assert not above, f"{module} imports {above}"


@pytest.mark.parametrize("module", MODULES)
def test_each_chain_module_imports_on_its_own(module):
    importlib.import_module(module)

