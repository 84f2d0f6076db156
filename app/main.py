"""The tradefin gateway: app factory, lifespan (keystores, database, chain client), error handlers.

A request travels route → service → chain client (lane: nonce, sign, store, send; tracker: receipt,
decode) → contract. Run it with `python -m app.runner` or `app.runner.serve(settings)`.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.guard import GatewayGuard
from app.api.route_index import PREFIX, RouteIndex
from app.api.routes import (
    access,
    certificates,
    documents,
    financing,
    fx,
    invoices,
    letters_of_credit,
    money,
    participants,
    signed_requests,
    supervision,
)
from app.api.routes import index as index_routes
from app.api.routes.signed_requests import add_prepare_routes
from app.chain.abi import AbiRegistry, Deployment
from app.chain.client import ChainClient
from app.chain.errors import ChainError
from app.chain.outbox import Outbox
from app.chain.signer import KeystoreDirectory, require_coincurve
from app.core.config import ROOT, Settings
from app.core.errors import ApiError, error_body
from app.db.session import make_engine, make_sessionmaker
from app.indexer.worker import start_in_gateway
from app.schemas.signed_requests import PreparedRequestPublic
from app.services import answers
from app.services.api_keys import ApiKeyStore
from app.services.base import Gateway
from app.services.documents import DocumentStore
from app.services.signed_requests import Prepared

log = logging.getLogger("tradefin.gateway")

# Swagger UI's assets from the pinned npm package `swagger-ui-dist` (package.json), served by the gateway itself:
# /docs works on a network without internet. ReDoc is not offered.
SWAGGER_UI_DIR = ROOT / "node_modules" / "swagger-ui-dist"
SWAGGER_UI_ASSETS = "/docs-assets"

API_DESCRIPTION = """
Authenticated HTTP API of the tradefin platform. Every call carries `Authorization: Bearer <api key>`;
each key belongs to one participant and the gateway signs that participant's transactions.

**Writes** (`POST`) need an `Idempotency-Key` header: repeating a key returns the first answer (with
`Idempotent-Replayed: true`) and sends nothing new. A write answers once its transaction is mined, with
the domain result decoded from the receipt's events, `tx_hash` and `block_number`.

**Errors** have one shape, `{"error": {"code", "message", "details"}}`. A contract revert answers its
custom error's name and decoded arguments: 409 conflict, 403 forbidden, 404 unknown, 422 invalid.
503 means the chain was unavailable and nothing was applied.
"""


class NodeHealth(BaseModel):
    """The chain node as the gateway sees it: its circuit (closed: answering; open: not asked until the
    cool-down ends; half-open: the next request probes it) and its last failure."""

    state: Literal["closed", "open", "half-open"]
    consecutive_failures: int
    last_error: str | None
    last_error_at: datetime | None = Field(description="When the node last failed to answer (UTC)")
    last_answer_at: datetime | None = Field(description="When the node last answered (UTC)")
    retry_after_seconds: int | None = Field(description="While open: seconds until the next probe")


class Health(BaseModel):
    status: str
    chain_ready: bool = Field(description="Writes can go to the node now: connected, recovered, circuit closed")
    chain_id: int
    signers: int
    outstanding_transactions: int
    node: NodeHealth


def build_gateway(settings: Settings) -> tuple[Gateway, ApiKeyStore, DocumentStore]:
    require_coincurve()
    engine = make_engine(settings.resolved_database_url, settings.sqlite_synchronous)
    sessions = make_sessionmaker(engine)
    abi = AbiRegistry.from_build(settings.build_file)
    if not settings.resolved_deployment_file.exists():
        raise RuntimeError(f"no deployment at {settings.resolved_deployment_file}: deploy the contracts first")
    deployment = Deployment.load(settings.resolved_deployment_file)
    if deployment.chain_id != settings.chain_id:
        raise RuntimeError(f"{settings.resolved_deployment_file} is for chain {deployment.chain_id}, "
                           f"settings say {settings.chain_id}")
    keystores = KeystoreDirectory(settings.keystore_dir, settings.keystore_passphrase.get_secret_value(),
                                  settings.keystore_scrypt_n)
    signers = keystores.unlock_all()
    chain = ChainClient(settings, abi, deployment, Outbox(sessions), signers, answers.render)
    gateway = Gateway(settings, sessions, abi, deployment, chain, keystores)
    return gateway, ApiKeyStore(sessions), DocumentStore(settings.documents_dir, sessions)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        gateway, api_keys, documents_store = build_gateway(settings)
        app.state.gateway, app.state.api_keys, app.state.documents = gateway, api_keys, documents_store
        app.state.index_engine = gateway.sessions.kw["bind"]
        await gateway.chain.start()
        indexer = start_in_gateway(settings)
        log.info("gateway ready: chain %d, %d signers", settings.chain_id, len(gateway.chain.lanes))
        # Everything built so far (modules, ABIs, routes, schemas) lives as long as the process: keep it out of
        # the collector's full passes, which otherwise walk it all and pause every request in flight.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if indexer is not None:
                indexer.stop()
            await gateway.chain.stop()

    # FastAPI's native OpenTelemetry looks the global providers up on every request; it is opt-in here.
    telemetry = {} if settings.opentelemetry else {"tracing": False, "metrics": False, "logs": False}
    app = FastAPI(title="tradefin gateway", version="0.1.0", description=API_DESCRIPTION, lifespan=lifespan,
                  telemetry=telemetry,
                  docs_url=None, redoc_url=None)
    app.add_middleware(GatewayGuard, max_json_body_bytes=settings.max_json_body_bytes)
    install_docs(app)

    writers = (participants.router, money.router, fx.router, invoices.router, financing.router,
               certificates.router, letters_of_credit.router, supervision.router)
    for router in writers:
        add_prepare_routes(router)  # each write route's `:prepare` form (participants keeping their own keys)
    # A request's router is found by its leading path (app/api/route_index.py); a request the index does not find
    # (404, 405) is matched by FastAPI against every route, in this order.
    route_index = RouteIndex()
    for router in (index_routes.router, signed_requests.router, access.router, *writers, documents.router):
        app.include_router(router, prefix=PREFIX)
        route_index.add(app.router.routes[-1], [PREFIX + route.path for route in router.routes])

    @app.get("/health", response_model=Health, tags=["health"], summary="Liveness and chain readiness")
    async def health(request: Request) -> Health:
        gateway: Gateway = request.app.state.gateway
        node = gateway.chain.node_state()
        ready = node.pop("ready")
        return Health(status="ok", chain_ready=ready, chain_id=settings.chain_id, signers=len(gateway.chain.lanes),
                      outstanding_transactions=gateway.chain.tracker.outstanding(), node=NodeHealth(**node))

    route_index.add(app.router.routes[-1], ["/health"])
    app.router.routes.insert(0, route_index)

    install_error_handlers(app)
    return app


def install_docs(app: FastAPI) -> None:
    """`/docs`: Swagger UI with its script and style served from `swagger-ui-dist` under `/docs-assets`."""
    if not (SWAGGER_UI_DIR / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"Swagger UI's assets are missing at {SWAGGER_UI_DIR}: run `npm ci` (make setup)")
    app.mount(SWAGGER_UI_ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} API docs",
                                   swagger_js_url=f"{SWAGGER_UI_ASSETS}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_UI_ASSETS}/swagger-ui.css",
                                   swagger_favicon_url=f"{SWAGGER_UI_ASSETS}/favicon-32x32.png")


def install_error_handlers(app: FastAPI) -> None:
    async def _answer(_: Request, exc: Exception) -> JSONResponse:
        answer, headers = answers.exception_answer(exc)  # type: ignore[arg-type]
        return JSONResponse(answer.body, status_code=answer.http_status, headers=headers)

    for kind in (ApiError, ChainError):  # ChainError: reverts, an unavailable node, a node's error (one translator)
        app.add_exception_handler(kind, _answer)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # A rule of the domain (a validator's ValueError) reads as its own sentence, without pydantic's prefix.
        fields = [{"field": ".".join(str(p) for p in e.get("loc", ())),
                   "reason": e.get("msg", "").removeprefix("Value error, "), "type": e.get("type", "")}
                  for e in exc.errors()]
        return JSONResponse(error_body("ValidationError", "the request is invalid", {"fields": fields}),
                            status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "MalformedBody", 404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HttpError")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Prepared)
    async def _prepared(_: Request, exc: Prepared) -> JSONResponse:  # a `:prepare` route's answer, not an error
        return JSONResponse(PreparedRequestPublic.model_validate(exc.body).model_dump(mode="json"))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return JSONResponse(error_body("InternalError", "unexpected error; nothing was logged with secrets"),
                            status_code=500)


