"""`python -m app.indexer [--once]`: the indexer as its own process (settings from TRADEFIN_* and
TRADEFIN_INDEXER_*). `--once` indexes up to the safe head and exits (exit 0); otherwise it follows the
chain until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from app.core.config import load_settings
from app.indexer.config import IndexerSettings
from app.indexer.worker import build_indexer


def main(argv: list[str]) -> int:
    settings = load_settings()  # refused settings: one line and exit 1
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per JSON-RPC request
    if any(a not in ("--once",) for a in argv):
        print("usage: python -m app.indexer [--once]", file=sys.stderr)
        return 2
    indexer = build_indexer(settings, IndexerSettings())
    if "--once" in argv:
        block = indexer.sync()
        print(f"indexed up to block {block}: {indexer.events_indexed} new events")
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    indexer.run(stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
