"""A JSON-RPC proxy in front of the real node, for tests that need a node misbehaving in one precise way.

`RpcProxy` forwards every request to `upstream` from a thread of its own (aiohttp on loopback, a free port);
a subclass overrides `handle(payload)` to change what the gateway sees (fail a read for a moment, never
answer, swallow transactions, lie about a balance). Use it as a context manager; its `url` goes into
`TRADEFIN_RPC_URL` of a gateway of the test's own."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from aiohttp import ClientSession, web
from gateway_world import free_port


class RpcProxy:
    """Forwards JSON-RPC (single requests and batches) to `upstream` unchanged; see the module notes."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def forward(self, payload: Any) -> Any:
        """`payload` as the real node answers it."""
        async with self._session.post(self.upstream, json=payload) as response:
            return await response.json()

    async def handle(self, payload: Any) -> Any:
        """The answer the gateway gets to `payload` (a request or a batch); override to misbehave."""
        return await self.forward(payload)

    async def _handle(self, request: web.Request) -> web.Response:
        return web.json_response(await self.handle(await request.json()))

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._session = ClientSession()
            app = web.Application()
            app.router.add_post("/", self._handle)
            self._runner = web.AppRunner(app, shutdown_timeout=0.2)  # hung handlers are cut short on exit
            await self._runner.setup()
            await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            await self._runner.cleanup()
            await self._session.close()

        async def cancel_hung() -> None:
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(20)
        asyncio.run_coroutine_threadsafe(cancel_hung(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
