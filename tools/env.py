"""The project's toolchain environment, for programs started directly (benchmarks, `python -m tools.*`).

`make` exports the same variables; a benchmark run as `.venv/bin/python bench/<name>.py` calls
`use_project_toolchain()` before importing Ape so that it finds the solc shim, Anvil and forge.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_project_toolchain() -> Path:
    """Put the project's tools first on PATH and point Ape, solcx and forge at project folders."""
    bin_dirs = [str(ROOT / "tools" / "bin"), str(ROOT / ".venv" / "bin")]
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join(bin_dirs + [p for p in path.split(os.pathsep) if p not in bin_dirs])
    os.environ.setdefault("SOLCX_BINARY_PATH", str(ROOT / ".cache" / "solcx"))
    os.environ.setdefault("APE_DATA_FOLDER", str(ROOT / ".cache" / "ape"))
    os.environ.setdefault("FOUNDRY_SOLC", str(ROOT / "tools" / "bin" / "solc"))
    os.chdir(ROOT)
    return ROOT
