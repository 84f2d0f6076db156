"""`make run` (`python -m tools.platform run`): deploys and bootstraps once, resumes the same chain after Ctrl-C,
and is quick when nothing changed."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tools.devnet import free_port

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "running; Ctrl-C stops"


def run_until_ready(data_dir: Path, port: int, timeout: float = 300.0) -> tuple[str, float, int]:
    """Start `make run`'s program, wait for it to be ready, Ctrl-C it; (output, seconds to ready, exit code).

    The timeout only catches a hang: `make test` runs its suites side by side on two cores, where a first start
    (devnet, deployment, demo world) has taken over 150 s: this test checks what it does, not how fast."""
    env = {**os.environ, "TRADEFIN_DATA_DIR": str(data_dir), "TRADEFIN_RPC_PORT": str(port),
           "TRADEFIN_PORT": str(free_port())}  # not 8000: a developer's own `make run` may hold it
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-m", "tools.platform", "run"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    output: list[str] = []
    ready_after = None
    try:
        while ready_after is None:
            try:
                line = lines.get(timeout=max(0.1, timeout - (time.monotonic() - started)))
            except queue.Empty:
                output.append(f"(not ready after {timeout:.0f} s)\n")
                break
            if line is None:
                break
            output.append(line)
            if READY_LINE in line:
                ready_after = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
    try:
        while (line := lines.get(timeout=30)) is not None:
            output.append(line)
    except queue.Empty:
        raise AssertionError(f"exit code {code}, yet its output stays open (a child left running?):\n"
                             + "".join(output)) from None
    text = "".join(output)
    assert ready_after is not None, text
    return text, ready_after, code


@pytest.mark.slow
@pytest.mark.stops_made_run
def test_make_run_deploys_once_then_resumes_the_same_chain_without_sending_anything(made_run):
    data_dir, port = made_run.data_dir, made_run.rpc_port
    assert made_run.stop() == 0, "".join(made_run.output)
    first = "".join(made_run.output)
    assert "contracts deployed" in first
    assert "demo world registered" in first and "funded" in first
    assert f"http://127.0.0.1:{port}" in first
    assert (data_dir / "deployments" / "31337.json").exists()
    assert (data_dir / "devnet" / "journal.jsonl").exists()

    journal = data_dir / "devnet" / "journal.jsonl"
    recorded = journal.read_bytes()
    second, _, code = run_until_ready(data_dir, port)
    assert code == 0, second
    assert "contracts reused" in second
    assert "demo world already in place" in second
    # Nothing to do, nothing sent: the second start replays the chain and sends no transaction. (How long a
    # restart takes is measured by `bench/devnet.py`, not asserted by a timed test.)
    assert journal.read_bytes() == recorded, "the second run must not change the chain"
    for line in first.splitlines():
        if line.strip().startswith(("ParticipantRegistry", "SettlementToken")):
            assert line in second, "the second run must show the same addresses"


def test_make_run_refuses_a_port_already_in_use(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "TRADEFIN_DATA_DIR": str(tmp_path), "TRADEFIN_RPC_PORT": str(port)}
        result = subprocess.run([sys.executable, "-m", "tools.platform", "run"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert "already in use" in result.stderr
