"""Prove that the test suites leave nothing under the home folder.

    python -m tools.home_check snapshot   # before the suites (make test does it after set-up)
    python -m tools.home_check check      # after them: exit 1 and the differences if anything was left

Anvil with default flags writes a state snapshot per block under `~/.foundry/anvil/tmp` and never removes it
(it once filled this machine's disk); Hardhat writes caches and telemetry consent under the XDG folders; Ape,
solcx and svm keep compilers and data under `~/.ape`, `~/.solcx`, `~/.svm`. The project keeps all of these
inside itself, and this check holds it to that: it lists the home folder's top level and every file under the
folders those tools use, and compares the listing (paths and sizes) before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / ".cache" / "home-listing.json"
# Folders under HOME that EVM tooling writes to when it is not told otherwise.
WATCHED = (".foundry", ".ape", ".svm", ".solcx", ".hardhat", ".cache/hardhat-nodejs", ".local/share/hardhat-nodejs",
           ".config/hardhat-nodejs", ".config/.foundry", ".cache/solidity-files-cache")
MAX_FILES_PER_FOLDER = 50_000  # a runaway snapshot folder is reported, not walked to the end


def home() -> Path:
    return Path(os.environ.get("TRADEFIN_CHECK_HOME") or Path.home())


def listing(base: Path | None = None) -> dict[str, int]:
    """`relative path → size` (-1 for folders) for HOME's top level and everything under the watched folders."""
    base = base or home()
    entries: dict[str, int] = {}
    if base.is_dir():
        for child in base.iterdir():
            entries[child.name] = -1 if child.is_dir() else child.stat().st_size
    for rel in WATCHED:
        folder = base / rel
        if not folder.is_dir():
            continue
        count = 0
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames:
                entries[str(Path(dirpath, name).relative_to(base))] = -1
            for name in filenames:
                path = Path(dirpath, name)
                try:
                    entries[str(path.relative_to(base))] = path.stat().st_size
                except FileNotFoundError:
                    continue
            count += len(filenames)
            if count > MAX_FILES_PER_FOLDER:
                entries[f"{rel}/...more than {MAX_FILES_PER_FOLDER} files"] = -1
                break
    return entries


def differences(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """Human-readable additions and growths (removals are not the suites' fault and are ignored)."""
    changes = []
    for path in sorted(after):
        if path not in before:
            changes.append(f"new: ~/{path}")
        elif after[path] > before[path] >= 0:
            changes.append(f"grew: ~/{path} ({before[path]} -> {after[path]} bytes)")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.home_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("snapshot", "check"))
    args = parser.parse_args(argv)
    if args.action == "snapshot":
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(json.dumps(listing()))
        return 0
    if not SNAPSHOT.exists():
        print("no home listing to compare with: run `python -m tools.home_check snapshot` first", file=sys.stderr)
        return 2
    changes = differences(json.loads(SNAPSHOT.read_text()), listing())
    if changes:
        print(f"the test suites left {len(changes)} change(s) under {home()}:", file=sys.stderr)
        for change in changes[:50]:
            print(f"  {change}", file=sys.stderr)
        return 1
    print(f"home folder check: nothing left under {home()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
