"""Static analysis gate: run Slither on our contracts and fail on any High-severity finding.

Run: `python -m tools.slither_check` (what `make test-slither` does). Options: `--json-out PATH` keeps
Slither's JSON report; `--fail-on {high,medium,low}` tightens the gate.

How it runs (shared TOOLCHAIN.md, sharp edges 2, 3, 5, 11):
- the project's solc shim (tools/bin/solc) must be the first `solc` on PATH: slither-analyzer installs
  solc-select, whose `.venv/bin/solc` would try to download a compiler;
- with a foundry.toml at the root, Slither builds through forge (`forge clean`, then `forge build`
  without tests/foundry), so forge's own output under .forge/ is rebuilt by the next `forge test`;
- findings in OpenZeppelin (node_modules, Ape's copy in contracts/.cache) and in the forge tests are
  filtered out; what is left is ours.

Exit codes: 0 no finding at or above the gate; 1 findings at or above the gate; 2 Slither could not run
or its report could not be read.
"""

from __future__ import annotations

import argparse
import json
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


@dataclass(frozen=True)
class Finding:
    check: str
    impact: str
    confidence: str
    description: str
    files: tuple[str, ...]

    @property
    def in_our_contracts(self) -> bool:
        return any(f.startswith(OUR_SOURCES) and not f.startswith("contracts/.cache/") for f in self.files)


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


def run_slither(root: Path, json_out: Path) -> dict[str, Any]:
    """Run Slither and return its JSON report (Slither's exit code only says whether it found anything)."""
    json_out.unlink(missing_ok=True)
    completed = subprocess.run(slither_command(root, json_out), cwd=root, capture_output=True, text=True)
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
            )
        )
    return findings


def print_findings(findings: list[Finding]) -> None:
    by_impact: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_impact[finding.impact].append(finding)
    for impact in SEVERITIES:
        group = by_impact.get(impact, [])
        print(f"{impact}: {len(group)}")
        for finding in group:
            where = ", ".join(finding.files) or "?"
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
    parser.add_argument("--fail-on", choices=("high", "medium", "low"), default="high")
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
    if failing:
        print(f"slither_check: FAIL: {len(failing)} finding(s) of severity {args.fail_on} or above in contracts/")
        return 1
    print(f"slither_check: ok: no finding of severity {args.fail_on} or above in contracts/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
