"""The cross-instrument invariant suite at 1,000 runs, with the calls made per handler action.

Run: .venv/bin/python bench/invariants.py [--runs N] [--depth N] [--seed N]

`make test` runs `tests/foundry/CrossInstrument.invariant.t.sol` at 64 runs of depth 64 (foundry.toml's default
profile); this runs the same suite under the `invariant-bench` profile (1,000 runs of depth 64) and prints, per
handler action, how often forge called it and how often the call did its work. Two sources, both printed:

- forge's own call metrics (`--json`): calls and reverts per selector over every run, exact;
- the handler's ghost counters (`CrossInstrumentHandler.callSummary`): per action, calls and skips (the action
  found nothing it could validly do: no eligible invoice, a frozen party, ...). The suite's `afterInvariant`
  appends them to the file named by TRADEFIN_INVARIANT_CALLS after each run; forge runs one or two sequences
  more than asked (a replay of the last run), so these totals can exceed forge's by that much, and the table
  shows the share of calls made, not an absolute.

Prints a table, then one JSON object as the last line. Exits 1 when the invariant fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.env import use_project_toolchain

ROOT = use_project_toolchain()
SUITE = "tests/foundry/CrossInstrument.invariant.t.sol"
INVARIANT = "invariant_crossInstrument"
PROFILE = "invariant-bench"  # foundry.toml: 1,000 runs of depth 64, may write under .forge/bench
CALLS_DIR = ROOT / ".forge" / "bench"


def run_forge(runs: int, depth: int, seed: int | None, calls_file: Path) -> tuple[dict, float]:
    """Run the suite's invariant under the `invariant-bench` profile; return forge's JSON report and wall time."""
    home = ROOT / ".cache" / "home"  # forge's signature cache stays in the project (as `make test-forge`)
    home.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        HOME=str(home),
        FOUNDRY_PROFILE=PROFILE,
        FOUNDRY_INVARIANT_RUNS=str(runs),
        FOUNDRY_INVARIANT_DEPTH=str(depth),
        TRADEFIN_INVARIANT_CALLS=str(calls_file.relative_to(ROOT)),
    )
    command = ["forge", "test", "--root", str(ROOT), "--match-path", SUITE, "--match-test", INVARIANT, "--json"]
    if seed is not None:
        command += ["--fuzz-seed", str(seed)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    report = _json_report(done.stdout)
    if report is None:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"forge gave no JSON report (exit {done.returncode})")
    return report, seconds


def _json_report(stdout: str) -> dict | None:
    """forge prints its JSON report as one line (compiler chatter may precede it)."""
    for line in reversed(stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def invariant_result(report: dict) -> dict:
    for suite, body in report.items():
        for name, result in body.get("test_results", {}).items():
            if suite.startswith(SUITE) and name.startswith(INVARIANT):
                return result
    raise SystemExit(f"{INVARIANT} not in forge's report")


def handler_counts(calls_file: Path) -> tuple[OrderedDict[str, list[int]], int]:
    """Sum the per-run `name calls skips` lines the suite's afterInvariant wrote; also count the reports."""
    totals: OrderedDict[str, list[int]] = OrderedDict()
    lines = 0
    for line in calls_file.read_text().splitlines() if calls_file.exists() else []:
        name, calls, skips = line.split()
        entry = totals.setdefault(name, [0, 0])
        entry[0] += int(calls)
        entry[1] += int(skips)
        lines += 1
    reports = lines // len(totals) if totals else 0
    return totals, reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--depth", type=int, default=64)
    parser.add_argument("--seed", type=int, default=None, help="forge's fuzz seed (default: random)")
    args = parser.parse_args()

    CALLS_DIR.mkdir(parents=True, exist_ok=True)
    calls_file = CALLS_DIR / f"cross-instrument-calls-{os.getpid()}.txt"
    calls_file.unlink(missing_ok=True)
    try:
        report, seconds = run_forge(args.runs, args.depth, args.seed, calls_file)
        handler, reports = handler_counts(calls_file)
    finally:
        calls_file.unlink(missing_ok=True)

    result = invariant_result(report)
    kind = result["kind"]["Invariant"]
    metrics = {key.rsplit(".", 1)[-1]: value for key, value in kind.get("metrics", {}).items()}
    passed = result["status"] == "Success"
    if not passed and result.get("counterexample"):
        print("counterexample:", json.dumps(result["counterexample"], indent=1)[:6000], file=sys.stderr)

    print(f"{SUITE}::{INVARIANT}  profile {PROFILE}: {kind['runs']} runs x depth {args.depth}, "
          f"{kind['calls']:,} calls, {kind['reverts']} reverts, {seconds:.1f} s  ->  "
          f"{'PASS' if passed else 'FAIL: ' + str(result.get('reason'))}")
    print(f"handler counters from {reports} afterInvariant reports (forge replays a sequence or two)")
    print(f"{'action':<28} {'calls':>8} {'reverts':>8} {'made':>8} {'skipped':>8} {'made %':>7}")
    per_action = {}
    names = list(handler) or sorted(metrics)
    for name in names:
        forge_calls = metrics.get(name, {}).get("calls", 0)
        forge_reverts = metrics.get(name, {}).get("reverts", 0)
        calls, skips = handler.get(name, [0, 0])
        made = calls - skips
        share = 100.0 * made / calls if calls else 0.0
        print(f"{name:<28} {forge_calls:>8,} {forge_reverts:>8} {made:>8,} {skips:>8,} {share:>6.1f}%")
        per_action[name] = {"calls": forge_calls, "reverts": forge_reverts, "made": made, "skipped": skips}
    total_calls = sum(v["calls"] for v in per_action.values())
    total_made = sum(v["made"] for v in per_action.values())
    total_handler = sum(c for c, _ in handler.values())
    print(f"{'total':<28} {total_calls:>8,} {kind['reverts']:>8} {total_made:>8,} "
          f"{total_handler - total_made:>8,} {100.0 * total_made / max(total_handler, 1):>6.1f}%")

    print(json.dumps({
        "suite": f"{SUITE}:{INVARIANT}",
        "profile": PROFILE,
        "passed": passed,
        "reason": result.get("reason"),
        "runs": kind["runs"],
        "depth": args.depth,
        "calls": kind["calls"],
        "reverts": kind["reverts"],
        "seconds": round(seconds, 1),
        "made_share": round(total_made / max(total_handler, 1), 3),
        "actions": per_action,
    }))
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
