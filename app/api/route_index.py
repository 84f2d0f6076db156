"""Which router answers a request, found by its path's first segments instead of by trying every route.

FastAPI tries the app's routers in order and, within each, every route's pattern, twice for the router that
answers (once to choose it, once to handle); each route tried costs about 4 µs of CPU in FastAPI 0.165, so a write
of a late router spent 0.2–0.5 ms and `/health` 0.6 ms before reaching its route (measured with the app built and
no server). `RouteIndex` is the app's first route: it keeps, for each leading path (`/v1/invoices`, `/health`), the
routers that serve a path starting with it, in the app's order, and tries only those. A request it finds no full
match for (an unknown path, a method a path does not take: 404, 405) falls through to FastAPI's own scan of every
route, which answers it as before.

Routes are still FastAPI's (`app.include_router`): the index only chooses among them, through the route interface
every Starlette route has (`matches`, `handle`), and the OpenAPI schema does not see it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.datastructures import URLPath
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

PREFIX = "/v1"
_CHOSEN = "tradefin.route_index.chosen"


def leading_path(path: str) -> str:
    """`/v1/<first segment>` of a path under the API's prefix, else `/<first segment>`: `/v1/invoices:prepare`,
    `/v1/letters-of-credit` (of `/v1/letters-of-credit/7/presentations`), `/health`."""
    parts = path.split("/", 3)
    return "/".join(parts[:3]) if len(parts) > 2 and "/" + parts[1] == PREFIX else "/".join(parts[:2])


class RouteIndex(BaseRoute):
    """The app's routers by the leading paths they serve (see the module's text)."""

    def __init__(self) -> None:
        self._by_leading: dict[str, list[tuple[int, BaseRoute]]] = {}
        self._anywhere: list[tuple[int, BaseRoute]] = []  # serves a path whose leading segment is a parameter
        self._added = 0

    def add(self, route: BaseRoute, paths: Iterable[str]) -> None:
        """`route`, a route of the app or a router included in it (in the app's order), serves `paths`."""
        self._added += 1
        for leading in {leading_path(p) for p in paths}:
            entries = self._anywhere if "{" in leading else self._by_leading.setdefault(leading, [])
            entries.append((self._added, route))

    def candidates(self, path: str) -> list[BaseRoute]:
        found = self._by_leading.get(leading_path(path), [])
        if self._anywhere:
            found = sorted([*found, *self._anywhere], key=lambda entry: entry[0])
        return [route for _, route in found]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http" or scope.get("root_path"):
            return Match.NONE, {}
        for route in self.candidates(scope["path"]):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return Match.FULL, {**child_scope, _CHOSEN: route}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        raise NoMatchFound(name, path_params)  # the routes it chooses among name themselves, after it

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await scope.pop(_CHOSEN).handle(scope, receive, send)
