"""Issue 12 finding "`make run` tears everything down when the gateway dies": `python -m tools.platform run`
restarts a killed gateway alone, with back-off, says so, and keeps the devnet and its chain; it gives up only
after repeated fast crashes, with a message."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tools.platform import Supervised

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "running; Ctrl-C stops"


class Platform:
    """`make run`'s program with its output pumped into a queue."""

    def __init__(self, data_dir: Path, rpc_port: int, gateway_port: int) -> None:
        self.data_dir, self.rpc_port = data_dir, rpc_port
        env = {**os.environ, "TRADEFIN_DATA_DIR": str(data_dir), "TRADEFIN_RPC_PORT": str(rpc_port),
               "TRADEFIN_PORT": str(gateway_port), "TRADEFIN_KEYSTORE_SCRYPT_N": str(2**12),
               "TRADEFIN_LOG_LEVEL": "warning"}
        self.rpc_url, self.gateway_url = f"http://127.0.0.1:{rpc_port}", f"http://127.0.0.1:{gateway_port}"
        self.process = subprocess.Popen([sys.executable, "-m", "tools.platform", "run"], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, "".join(self.output)
            self.output.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def rpc(self, method: str, params: list) -> dict | str:
        request = urllib.request.Request(self.rpc_url, data=json.dumps(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["result"]

    def health(self) -> dict | None:
        try:
            with urllib.request.urlopen(self.gateway_url + "/health", timeout=1) as response:
                return json.loads(response.read())
        except OSError:
            return None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=60)
        try:
            while (line := self.lines.get(timeout=30)) is not None:
                self.output.append(line)
        except queue.Empty:
            raise AssertionError(f"exit code {code}, yet its output stays open (a child left running?):\n"
                                 + "".join(self.output)) from None
        return code


    def found(self, pattern: str) -> re.Match[str]:
        """The last line printed so far that matches `pattern`."""
        return next(m for line in reversed(self.output) if (m := re.search(pattern, line)))


@pytest.mark.slow
def test_make_run_restarts_a_killed_gateway_alone_and_keeps_the_chain(made_run):
    platform = made_run
    first_pid = int(platform.found(r"gateway running \(pid (\d+)\)").group(1))
    restarts_before = sum("gateway restarted" in line for line in platform.output)
    devnet_pid_line = [line for line in platform.output if "devnet up" in line]
    height = int(platform.rpc("eth_blockNumber", []), 16)
    head = platform.rpc("eth_getBlockByNumber", [hex(height), False])["hash"]
    assert platform.health()["chain_ready"] is True

    os.kill(first_pid, signal.SIGKILL)
    killed_at = time.monotonic()
    platform.wait_for(rf"the gateway \(pid {first_pid}\) was killed by SIGKILL", timeout=10)
    platform.wait_for(r"restarting the gateway in 1 s; the devnet keeps running", timeout=5)
    second_pid = int(platform.wait_for(r"gateway running \(pid (\d+)\)", timeout=90).group(1))
    platform.wait_for(rf"gateway restarted \({restarts_before + 1} restarts? so far\)", timeout=5)
    assert second_pid != first_pid
    while (health := platform.health()) is None or not health["chain_ready"]:
        assert time.monotonic() - killed_at < 90, "the gateway did not answer /health again"
        time.sleep(0.2)
    assert time.monotonic() - killed_at < 90

    assert platform.process.poll() is None, "make run must keep running"
    assert [line for line in platform.output if "devnet up" in line] == devnet_pid_line  # never restarted
    assert platform.rpc("eth_getBlockByNumber", [hex(height), False])["hash"] == head
    assert int(platform.rpc("eth_blockNumber", []), 16) >= height


def test_make_run_gives_up_after_repeated_fast_crashes_with_a_clear_message(capsys):
    crashing = Supervised("gateway", lambda: subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"]),
                          backoff=0.05, max_backoff=0.2, fast_crash_seconds=30, max_fast_crashes=4)
    crashing.start()
    delays = []
    deadline = time.monotonic() + 30
    while (given_up := crashing.poll()) is None:
        assert time.monotonic() < deadline
        if crashing.restart_at is not None and (not delays or delays[-1][0] != crashing.fast_crashes):
            delays.append((crashing.fast_crashes, crashing._delay))
        time.sleep(0.01)
    assert given_up == ("the gateway crashed 4 times in a row, each within 30 s of its start: giving up, stopping "
                        "the platform (see its output above)")
    assert [d for _, d in delays] == [0.05, 0.1, 0.2]  # doubling, capped
    assert crashing.restarts == 3
    err = capsys.readouterr().err
    assert err.count("exited with code 3") == 4 and "restarting the gateway in" in err


def test_make_run_a_gateway_that_ran_a_while_restarts_with_the_first_back_off_again():
    survivor = Supervised("indexer", lambda: subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"]),
                          backoff=0.05, max_backoff=1.0, fast_crash_seconds=0.0, max_fast_crashes=2)
    survivor.start()
    for _ in range(5):  # every crash comes after a "long" run (fast_crash_seconds=0): never gives up
        while survivor.process.poll() is None:
            time.sleep(0.01)
        assert survivor.poll() is None
        assert survivor._delay == 0.05 and survivor.fast_crashes == 0
        while survivor.restart_at is not None:
            assert survivor.poll() is None
            time.sleep(0.01)
    survivor.stop()
