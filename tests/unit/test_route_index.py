"""The gateway's route index (app/api/route_index.py) finds every documented route's router by its leading path,
and the route FastAPI then runs is the one its own scan of every route would have chosen."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match

from app.api.route_index import RouteIndex, leading_path
from app.main import create_app


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}


def _example(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


@pytest.fixture(scope="module")
def app():
    return create_app()


def test_leading_paths():
    assert leading_path("/v1/letters-of-credit/7/presentations") == "/v1/letters-of-credit"
    assert leading_path("/v1/invoices:prepare") == "/v1/invoices:prepare"
    assert leading_path("/health") == "/health"
    assert leading_path("/docs-assets/swagger-ui.css") == "/docs-assets"


def test_every_route_of_the_api_is_found_by_the_index_in_the_apps_own_order(app):
    index = app.router.routes[0]
    assert isinstance(index, RouteIndex)
    scanned = app.router.routes[1:]
    routes = [c for c in iter_route_contexts(scanned)
              if isinstance(c.original_route, APIRoute) and c.original_route.include_in_schema]
    assert len(routes) > 100
    for context in routes:
        for method in context.original_route.methods:
            scope = _scope(method, _example(context.path))
            match, child = index.matches(scope)
            assert match == Match.FULL, f"{method} {context.path} is not in the index"
            # FastAPI's own choice: the first of the app's routes (in order) that matches in full
            expected = next(r for r in scanned if r.matches(_scope(method, scope["path"]))[0] == Match.FULL)
            assert child["tradefin.route_index.chosen"] is expected, f"{method} {context.path}"


def test_a_path_or_method_no_route_takes_is_left_to_fastapi(app):
    index = app.router.routes[0]
    assert index.matches(_scope("GET", "/v1/no-such-thing"))[0] == Match.NONE
    assert index.matches(_scope("DELETE", "/v1/invoices"))[0] == Match.NONE  # 405, answered by FastAPI's scan
    assert index.matches(_scope("GET", "/docs"))[0] == Match.NONE  # not indexed: found by the scan


def test_routes_are_still_found_by_name_past_the_index(app):
    assert app.url_path_for("health") == "/health"
