"""Ape without the work no test reads: installed by tests/conftest.py for every Ape suite, in the test
process only (`make run` and the Ape scripts run Ape as it ships).

It halves the contract suite's time (app/README.md, "Measured": `make test`). Per transaction Ape 0.8.51 /
ape-foundry 0.8.12 asked the node for a full call trace to print `console.log` lines, printed a call
trace for every revert (also those a test expects with `ape.reverts`), asked whether the node automines before
every test and fixture, polled the sender's nonce after the receipt, and looked up proxy settings in the
environment for every JSON-RPC request. None of that changes what a transaction does or what a test asserts:

- `console.log` lines: the contracts log nothing (tests/tools/test_contracts_log_nothing.py checks there is no
  console import under contracts/), so the trace per transaction finds no line to print;
- call traces of reverts: `ape.reverts` matches the decoded custom error, not the printed trace; a failing test
  still shows Ape's traceback;
- automine: asked once per provider and remembered, and a test that switches it goes through the setter, which
  remembers the new value;
- the nonce poll: a receipt with a block number was mined, so its sender's nonce is already past it (an unmined
  receipt still waits as Ape does);
- proxies: the suites talk to nodes on 127.0.0.1 only.

`install()` raises if one of the places it changes is missing (a newer Ape): the suites then fail at start
instead of silently running the slow way or patching the wrong thing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

_installed = False
_quiet_traces = False


def _require(owner: Any, name: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError:
        raise RuntimeError(f"tests/ape_lean.py: {owner!r} has no {name!r} any more (Ape upgraded?); "
                           "review the patch against the new Ape") from None


@contextlib.contextmanager
def _no_trace_printing() -> Iterator[None]:
    global _quiet_traces
    previous, _quiet_traces = _quiet_traces, True
    try:
        yield
    finally:
        _quiet_traces = previous


def install() -> None:
    """Patch once per process (idempotent)."""
    global _installed
    if _installed:
        return
    import ape_ethereum.provider as ethereum_provider
    import web3._utils.http_session_manager as http_sessions
    from ape.api.transactions import ReceiptAPI
    from ape_ethereum.trace import Trace
    from ape_foundry.provider import FoundryProvider

    _require(ethereum_provider, "_post_send_transaction")
    ethereum_provider._post_send_transaction = lambda txn, receipt: None

    show = _require(Trace, "show")

    def quiet_show(self: Trace, *args: Any, **kwargs: Any) -> None:
        if not _quiet_traces:
            show(self, *args, **kwargs)

    Trace.show = quiet_show

    handle_revert = _require(FoundryProvider, "_handle_execution_reverted")

    def handle_revert_quietly(self: FoundryProvider, *args: Any, **kwargs: Any) -> Any:
        with _no_trace_printing():
            return handle_revert(self, *args, **kwargs)

    FoundryProvider._handle_execution_reverted = handle_revert_quietly

    auto_mine = _require(FoundryProvider, "auto_mine")

    def get_auto_mine(self: FoundryProvider) -> bool:
        if (known := self.__dict__.get("_lean_auto_mine")) is None:
            known = self.__dict__["_lean_auto_mine"] = auto_mine.fget(self)
        return known

    def set_auto_mine(self: FoundryProvider, value: bool) -> None:
        auto_mine.fset(self, value)
        self.__dict__["_lean_auto_mine"] = value

    FoundryProvider.auto_mine = property(get_auto_mine, set_auto_mine)

    await_nonce = _require(ReceiptAPI, "_await_sender_nonce_increment")

    def await_nonce_unless_mined(self: ReceiptAPI) -> None:
        if self.block_number is None or self.block_number < 0:
            await_nonce(self)

    ReceiptAPI._await_sender_nonce_increment = await_nonce_unless_mined

    cached_session = _require(http_sessions.HTTPSessionManager, "cache_and_return_session")

    def session_without_proxy_lookup(self: Any, *args: Any, **kwargs: Any) -> Any:
        session = cached_session(self, *args, **kwargs)
        session.trust_env = False
        return session

    http_sessions.HTTPSessionManager.cache_and_return_session = session_without_proxy_lookup
    _installed = True
