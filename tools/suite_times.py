"""Wall and CPU time of each test suite, printed at the end of `make test`.

    python -m tools.suite_times start                  forget the times of an earlier run
    python -m tools.suite_times run NAME -- COMMAND…   run COMMAND, record NAME's wall and CPU time and exit status
    python -m tools.suite_times report                 the table (and the whole run's wall time since `start`)

Suites that run at the same time (`make -j3`) each record their own line: one short append per suite to
`.cache/suite-times.tsv`, whole or not at all. CPU is user + system time of the suite's processes once they
have ended (`getrusage(RUSAGE_CHILDREN)`: the nodes, gateways and compilers a suite starts and waits for count,
a process it leaves behind does not). On two cores the suites' CPU, not their waiting, sets `make test`'s wall
time.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / ".cache" / "suite-times.tsv"


def start() -> int:
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(f"start\t{time.time():.3f}\t0\n")
    return 0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(name: str, command: list[str]) -> int:
    began, cpu = time.monotonic(), _children_cpu()
    status = subprocess.call(command)
    line = f"{name}\t{time.monotonic() - began:.1f}\t{status}\t{_children_cpu() - cpu:.1f}\n".encode()
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(RECORD, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return status


def report() -> int:
    if not RECORD.exists():
        print("no suite times recorded")
        return 0
    began = None
    rows = []
    for line in RECORD.read_text().splitlines():
        name, seconds, status, *cpu = line.split("\t")
        if name == "start":
            began = float(seconds)
        else:
            rows.append((name, float(seconds), int(status), float(cpu[0]) if cpu else 0.0))
    width = max([len(row[0]) for row in rows] + [len("make test")])
    print(f"\n{'suite':<{width}}  {'wall s':>7}  {'CPU s':>7}  result")
    for name, seconds, status, cpu in rows:
        print(f"{name:<{width}}  {seconds:>7.1f}  {cpu:>7.1f}  {'passed' if status == 0 else f'FAILED ({status})'}")
    if began is not None:
        total_cpu = sum(row[3] for row in rows)
        print(f"{'make test':<{width}}  {time.time() - began:>7.1f}  {total_cpu:>7.1f}  "
              "(wall, setup included; suites overlap)")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["start"]:
        return start()
    if argv[:1] == ["report"]:
        return report()
    if len(argv) >= 4 and argv[0] == "run" and argv[2] == "--":
        return run(argv[1], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
