"""Wall time of each test suite, printed at the end of `make test`.

    python -m tools.suite_times start                  forget the times of an earlier run
    python -m tools.suite_times run NAME -- COMMAND…   run COMMAND, record NAME's wall time and exit status
    python -m tools.suite_times report                 the table (and the whole run's wall time since `start`)

Suites that run at the same time (`make -j2`) each record their own line: one short append per suite to
`.cache/suite-times.tsv`, whole or not at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / ".cache" / "suite-times.tsv"


def start() -> int:
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(f"start\t{time.time():.3f}\t0\n")
    return 0


def run(name: str, command: list[str]) -> int:
    began = time.monotonic()
    status = subprocess.call(command)
    line = f"{name}\t{time.monotonic() - began:.1f}\t{status}\n".encode()
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
        name, seconds, status = line.split("\t")
        if name == "start":
            began = float(seconds)
        else:
            rows.append((name, float(seconds), int(status)))
    width = max([len(name) for name, _, _ in rows] + [len("make test")])
    print(f"\n{'suite':<{width}}  {'wall s':>7}  result")
    for name, seconds, status in rows:
        print(f"{name:<{width}}  {seconds:>7.1f}  {'passed' if status == 0 else f'FAILED ({status})'}")
    if began is not None:
        print(f"{'make test':<{width}}  {time.time() - began:>7.1f}  (wall, setup included; suites may overlap)")
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
