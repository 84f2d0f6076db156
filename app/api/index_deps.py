"""Dependencies of the read routes: the database engine the indexer writes (no chain access), and where a read
runs (`run_read`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool

from app.db.session import STEP_BUDGET, StepBudget, connection_free

T = TypeVar("T")

# SQLite work a read may do on the event loop before it moves to the thread pool: a page of a listing read along
# an index takes 2,000-13,000 steps, a filter that matches few of 100,000 instruments hundreds of thousands
# (tens of milliseconds). 50,000 steps are about 4 ms on the 2-core development machine.
INLINE_READ_STEPS = 50_000


async def get_index_engine(request: Request) -> Engine:  # async: no worker-thread hop per request
    return request.app.state.index_engine


IndexEngineDep = Annotated[Engine, Depends(get_index_engine)]


async def run_read(engine: Engine, read: Callable[..., T], *args: Any) -> T:
    """Run `read(engine, *args)`, a query over the index. On SQLite (a local file) first on the event loop: a read
    costs a millisecond or two of Python under the GIL wherever it runs, and a worker thread adds a hop and about
    half as much CPU again (measured by bench/indexer.py). Its SQLite work is bounded there (`INLINE_READ_STEPS`):
    a read that needs more is interrupted and run again in the thread pool, where SQLite's own work lets the
    event loop go on. While every pooled connection is taken the read goes to the thread pool at once: waiting for
    one on the event loop would stop the gateway (`connection_free`). Other databases answer over the network:
    always the thread pool."""
    if engine.dialect.name == "sqlite" and connection_free(engine):
        budget = StepBudget(INLINE_READ_STEPS)
        token = STEP_BUDGET.set(budget)
        try:
            return read(engine, *args)
        except DBAPIError:
            if not budget.spent:
                raise
        finally:
            STEP_BUDGET.reset(token)
    return await run_in_threadpool(read, engine, *args)
