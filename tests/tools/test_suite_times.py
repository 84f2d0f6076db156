"""`tools/suite_times.py`: each suite's wall and CPU time, and the table `make test` ends with."""

from __future__ import annotations

import sys

import pytest

from tools import suite_times


@pytest.fixture
def record(tmp_path, monkeypatch):
    path = tmp_path / "suite-times.tsv"
    monkeypatch.setattr(suite_times, "RECORD", path)
    return path


def test_a_suite_records_the_cpu_of_the_processes_it_ran_and_the_table_adds_them_up(record, capsys):
    assert suite_times.start() == 0
    busy = [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"]
    assert suite_times.run("busy", busy) == 0
    assert suite_times.run("failing", [sys.executable, "-c", "raise SystemExit(3)"]) == 3
    rows = [line.split("\t") for line in record.read_text().splitlines()]
    assert [row[0] for row in rows] == ["start", "busy", "failing"]
    busy_wall, busy_cpu = float(rows[1][1]), float(rows[1][3])
    assert busy_cpu >= 0.3 and busy_wall >= 0.3
    assert rows[2][2] == "3"

    capsys.readouterr()
    suite_times.report()
    table = capsys.readouterr().out.splitlines()
    assert table[1].split() == ["suite", "wall", "s", "CPU", "s", "result"]
    assert table[2].split()[0] == "busy" and table[2].split()[-1] == "passed"
    assert table[3].split()[-2:] == ["FAILED", "(3)"]
    total_cpu = float(table[4].split()[3])
    assert total_cpu >= busy_cpu
