"""The gateway package imports nothing from the Ape scripts: `app/` → `scripts/` never, only the other way.

Read from each module's syntax tree (no import runs, so a lazy import inside a function counts the same as one at
the top): `import scripts...`, `from scripts... import ...`, and `importlib.import_module("scripts...")` or
`__import__("scripts...")` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = "scripts"


def imports_of_scripts(source: str) -> list[tuple[int, str]]:
    """(line, imported name) of every import of the `scripts` package in `source`."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__")))):
            names = [node.args[0].value]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.split(".")[0] == FORBIDDEN]
    return found


def test_the_check_sees_each_form_of_import():
    """A guard for the check itself: each form it must catch is caught, and a look-alike is not."""
    source = ("import scripts._common\n"
              "from scripts.demo import SUPPLIERS\n"
              "def f():\n    from scripts import _fx\n"
              "import importlib\nimportlib.import_module('scripts.deploy')\n"
              "from app.scripts_like import x\nimport scriptsx\n")
    assert [line for line, _ in imports_of_scripts(source)] == [1, 2, 4, 6]


def test_no_module_of_app_imports_scripts():
    modules = sorted((ROOT / "app").rglob("*.py"))
    assert len(modules) > 20, "app/ has no modules: the check would pass vacuously"
    offending = [f"{path.relative_to(ROOT)}:{line} imports {name}"
                 for path in modules for line, name in imports_of_scripts(path.read_text())]
    assert not offending, ("app/ must not import scripts/ (the scripts import from app): move what app needs "
                           "into app/\n" + "\n".join(offending))
