"""Static analysis gate: run Slither on our contracts and fail on any High- or Medium-severity finding, and on
any exclusion that does not say why.

Run: `python -m tools.slither_check` (what `make test-slither` does). Options: `--json-out PATH` keeps
Slither's JSON report; `--fail-on {high,medium,low}` moves the gate (default `medium`: High and Medium fail).

A finding that is not a defect is excluded in the contract, at its line, with the reason next to it (issue 11):

    // A settlement token returns true or reverts.
    // slither-disable-next-line unused-return

The reason is a comment on the line above the directive, or text after the detector names on the directive's
own line (`// slither-disable-next-line timestamp: calendar dates, seconds of drift cannot matter`). A
directive (`slither-disable-next-line`, `-line`, `-start`) in contracts/ without one fails the gate.

How it runs (shared TOOLCHAIN.md, sharp edges 2, 3, 5, 11):
- the project's solc shim (tools/bin/solc) must be the first `solc` on PATH: slither-analyzer installs
  solc-select, whose `.venv/bin/solc` would try to download a compiler;
- with a foundry.toml at the root, Slither builds through forge (`forge clean`, then `forge build`
  without tests/foundry); `FOUNDRY_OUT` and `FOUNDRY_CACHE_PATH` point that build at `.cache/slither/`, so it
  neither wipes nor races the output of `forge test` under .forge/;
- findings in OpenZeppelin (node_modules, Ape's copy in contracts/.cache) and in the forge tests are
  filtered out; what is left is ours.

Exit codes: 0 no finding at or above the gate and every exclusion explained; 1 findings at or above the gate,
or an exclusion without a reason; 2 Slither could not run or its report could not be read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.env import use_project_toolchain

SEVERITIES = ("High", "Medium", "Low", "Informational", "Optimization")
# Regular expressions of paths whose findings are not ours.
FILTER_PATHS = "node_modules|contracts/\\.cache|tests/foundry"
OUR_SOURCES = "contracts/"


# A Slither directive in a Solidity comment, as Slither itself reads it (slither/core/slither_core.py), and
# what follows the detector names on its line.
DIRECTIVE = re.compile(r"^\s*//\s*slither-disable-(next-line|line|start)\s*([a-zA-Z0-9_,-]*)(.*)$")
COMMENT = re.compile(r"^\s*//+\s*(.*)$")


@dataclass(frozen=True)
class Finding:
    check: str
    impact: str
    confidence: str
    description: str
    files: tuple[str, ...]
    location: str = ""  # file:line(s) of its first element, e.g. contracts/LetterOfCredit.sol#L239-L241

    @property
    def in_our_contracts(self) -> bool:
        return any(f.startswith(OUR_SOURCES) and not f.startswith("contracts/.cache/") for f in self.files)


@dataclass(frozen=True)
class Exclusion:
    """A `slither-disable-*` directive in one of our contracts."""

    file: str
    line: int
    detectors: tuple[str, ...]
    reason: str  # empty when none is given

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: slither-disable ({', '.join(self.detectors) or 'no detector'})"


def exclusions(root: Path) -> list[Exclusion]:
    """Every Slither directive in our contracts, with its reason: the text after the detector names on its
    line, else the comment on the line above (when that is not itself a directive)."""
    found = []
    for path in sorted((root / OUR_SOURCES).rglob("*.sol")):
        relative = path.relative_to(root).as_posix()
        if relative.startswith("contracts/.cache/"):
            continue
        previous = ""
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            match = DIRECTIVE.match(line)
            if match:
                detectors = tuple(d for d in match.group(2).split(",") if d)
                reason = match.group(3).strip(" \t:-—–()")
                if not reason and not DIRECTIVE.match(previous):
                    comment = COMMENT.match(previous)
                    reason = comment.group(1).strip() if comment else ""
                found.append(Exclusion(relative, number, detectors, reason))
            previous = line
    return found


def unexplained(found: list[Exclusion]) -> list[Exclusion]:
    return [e for e in found if not e.reason]


def slither_command(root: Path, json_out: Path) -> list[str]:
    slither = root / ".venv" / "bin" / "slither"
    return [
        str(slither) if slither.exists() else "slither",
        ".",
        "--filter-paths", FILTER_PATHS,
        "--exclude-dependencies",
        "--json", str(json_out),
    ]


def check_solc_shim(root: Path) -> str | None:
    """The `solc` Slither will find, or an error message when it is not the project's shim."""
    found = shutil.which("solc")
    shim = root / "tools" / "bin" / "solc"
    if found is None or Path(found).resolve() != shim.resolve():
        return f"the first solc on PATH is {found}, not the project's shim {shim}"
    return None


def slither_env(root: Path) -> dict[str, str]:
    """forge's build for Slither in a folder of its own (forge reads these over foundry.toml)."""
    build = root / ".cache" / "slither"
    return {**os.environ, "FOUNDRY_OUT": str(build / "out"), "FOUNDRY_CACHE_PATH": str(build / "cache")}


def run_slither(root: Path, json_out: Path) -> dict[str, Any]:
    """Run Slither and return its JSON report (Slither's exit code only says whether it found anything)."""
    json_out.unlink(missing_ok=True)
    completed = subprocess.run(slither_command(root, json_out), cwd=root, capture_output=True, text=True,
                               env=slither_env(root), check=False)
    if not json_out.exists():
        sys.stderr.write(completed.stdout + completed.stderr)
        raise RuntimeError(f"Slither wrote no report (exit code {completed.returncode})")
    report = json.loads(json_out.read_text())
    if not report.get("success"):
        sys.stderr.write(completed.stderr)
        raise RuntimeError(f"Slither failed: {report.get('error')}")
    return report


def parse_findings(report: dict[str, Any]) -> list[Finding]:
    findings = []
    for result in (report.get("results") or {}).get("detectors", []):
        files = tuple(
            sorted({
                e["source_mapping"]["filename_relative"]
                for e in result.get("elements", [])
                if e.get("source_mapping", {}).get("filename_relative")
            })
        )
        findings.append(
            Finding(
                check=result["check"],
                impact=result["impact"],
                confidence=result["confidence"],
                description=result["description"].strip(),
                files=files,
                location=_location(result),
            )
        )
    return findings


def _location(result: dict[str, Any]) -> str:
    """Where a finding is: Slither's first markdown element (`file#Lx-Ly`), else its first element's file
    and lines."""
    if result.get("first_markdown_element"):
        return str(result["first_markdown_element"])
    for element in result.get("elements", []):
        mapping = element.get("source_mapping") or {}
        if mapping.get("filename_relative"):
            lines = mapping.get("lines") or []
            return mapping["filename_relative"] + (f"#L{lines[0]}-L{lines[-1]}" if lines else "")
    return ""


def print_findings(findings: list[Finding]) -> None:
    by_impact: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_impact[finding.impact].append(finding)
    for impact in SEVERITIES:
        group = by_impact.get(impact, [])
        print(f"{impact}: {len(group)}")
        for finding in group:
            where = finding.location or ", ".join(finding.files) or "?"
            print(f"  [{finding.check}, confidence {finding.confidence}] {where}")
            for line in finding.description.splitlines():
                print(f"      {line}")


def gate(findings: list[Finding], fail_on: str) -> list[Finding]:
    """Findings in our contracts at or above the `fail_on` severity."""
    failing = SEVERITIES[: SEVERITIES.index(fail_on.capitalize()) + 1]
    return [f for f in findings if f.impact in failing and f.in_our_contracts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json-out", type=Path, help="keep Slither's JSON report at this path")
    parser.add_argument("--fail-on", choices=("high", "medium", "low"), default="medium")
    args = parser.parse_args(argv)

    root = use_project_toolchain()
    if problem := check_solc_shim(root):
        print(f"slither_check: {problem}", file=sys.stderr)
        return 2
    (root / ".cache").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slither-", dir=root / ".cache") as tmp:
        json_out = args.json_out or Path(tmp) / "slither.json"
        try:
            report = run_slither(root, json_out)
        except (RuntimeError, json.JSONDecodeError) as exc:
            print(f"slither_check: {exc}", file=sys.stderr)
            return 2
    findings = parse_findings(report)
    print_findings(findings)
    failing = gate(findings, args.fail_on)
    silent = unexplained(exclusions(root))
    for exclusion in silent:
        print(f"slither_check: exclusion without a reason at {exclusion}: say why on the line above it")
    if failing:
        print(f"slither_check: FAIL: {len(failing)} finding(s) of severity {args.fail_on} or above in contracts/")
    if silent:
        print(f"slither_check: FAIL: {len(silent)} slither-disable directive(s) in contracts/ without a reason")
    if failing or silent:
        return 1
    print(f"slither_check: ok: no finding of severity {args.fail_on} or above in contracts/, every exclusion "
          f"explained")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
