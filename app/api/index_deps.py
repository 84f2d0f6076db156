"""Dependencies of the read routes: the database engine the indexer writes (no chain access)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine


async def get_index_engine(request: Request) -> Engine:  # async: no worker-thread hop per request
    return request.app.state.index_engine


IndexEngineDep = Annotated[Engine, Depends(get_index_engine)]
