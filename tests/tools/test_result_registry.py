"""Every write's result is registered once, explicitly, with the model it answers and its status, and the write
routes answer exactly that (`app/services/results.py`). Plain Python: the app is built, not started."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

from fastapi.routing import APIRoute

from app.api.deps import PREPARE_SUFFIX
from app.chain.types import WriteAnswer
from app.schemas.common import WriteResult
from app.schemas.signed_requests import PreparedRequestPublic
from app.services.answers import render
from app.services.results import CHANGED, CREATED, RESULTS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted((ROOT / "app" / "services").glob("*.py"))


def _app():
    from app.main import create_app  # imports every route, so every service registers its results

    return create_app()


def _calls(name: str):
    for path in SERVICES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == name:
                yield path.name, node


def test_every_operation_a_service_sends_has_its_registered_result():
    _app()
    sent = {m for path in SERVICES for m in re.findall(r'operation="([^"]+)"', path.read_text())}
    assert sent, "no operation found: the pattern no longer matches the services"
    assert sent - set(RESULTS) == set(), "operations without a registered result"
    assert set(RESULTS) - sent == set(), "results registered for operations no service sends"


def test_results_are_registered_under_literal_names_with_a_model():
    for helper in ("register_result", "_credit_changed"):
        for file, call in _calls(helper):
            first = call.args[0]
            if helper == "register_result" and isinstance(first, ast.Name) and file == "letters_of_credit.py":
                continue  # inside `_credit_changed`, whose callers are checked here too
            assert isinstance(first, ast.Constant) and isinstance(first.value, str), \
                f"{file}:{call.lineno}: {helper} needs the operation's name as a literal"
    for kind in RESULTS.values():
        assert kind.status in (CREATED, CHANGED)
        assert inspect.isclass(kind.model)


def _write_routes() -> list[APIRoute]:
    _app()
    routes = []
    for path in sorted((ROOT / "app" / "api" / "routes").glob("[a-z]*.py")):
        module = importlib.import_module(f"app.api.routes.{path.stem}")
        routes += [r for r in module.router.routes
                   if isinstance(r, APIRoute) and "respond(" in inspect.getsource(r.endpoint)]
    return routes


def test_each_write_route_answers_its_operations_model_and_status():
    routes = _write_routes()
    assert len(routes) > 50
    registered = {(WriteResult[k.model], k.status) for k in RESULTS.values()}  # type: ignore[name-defined]
    writes = [r for r in routes if not r.path.endswith(PREPARE_SUFFIX)]
    for route in writes:
        assert (route.response_model, route.status_code) in registered, route.path
    # each write's `:prepare` form (signed requests) answers the typed data to sign, as 200
    prepares = {r.path.removesuffix(PREPARE_SUFFIX): r for r in routes if r.path.endswith(PREPARE_SUFFIX)}
    assert set(prepares) == {r.path for r in writes if "POST" in r.methods}
    for route in prepares.values():
        assert (route.response_model, route.status_code) == (PreparedRequestPublic, 200), route.path


def test_a_write_of_an_unregistered_operation_answers_its_events():
    """Recovery may meet a stored request of an operation no service sends any more: it is answered, not lost."""

    class Receipt:
        tx_hash, block_number, events = "0x" + "ab" * 32, 7, []

    from app.chain.types import Mined

    answer = render(Mined("retired.operation", Receipt()))  # type: ignore[arg-type]
    assert answer == WriteAnswer(CHANGED, {"result": {"events": []}, "tx_hash": Receipt.tx_hash, "block_number": 7})
