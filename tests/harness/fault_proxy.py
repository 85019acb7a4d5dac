"""A loopback HTTP proxy in front of a homeserver that breaks the paths a test names.

The bot under test is pointed at the proxy; every request is forwarded untouched, except those
whose path starts with a faulty prefix, which get the fault instead: a 5xx, a 401, a body that
is not JSON, or a connection closed without an answer. Runs in a thread of its own, like the
fake model server.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Literal

from aiohttp import ClientSession, ClientTimeout, web

Fault = Literal["server_error", "unauthorized", "not_json", "dropped"]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length",
              "content-encoding", "host"}


class FaultProxy:
    """Forwards to ``upstream``; ``break_path(prefix, fault)`` makes matching requests fail."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = 0
        self._faults: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self.faulted = 0  # requests answered with a fault

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def break_path(self, prefix: str, fault: Fault) -> None:
        with self._lock:
            self._faults[prefix] = fault

    def heal(self) -> None:
        with self._lock:
            self._faults.clear()

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            return next((f for p, f in self._faults.items() if path.startswith(p)), None)

    def start(self) -> None:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()),
                                        name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fault proxy did not start")

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with ClientSession(timeout=ClientTimeout(total=None),
                                 auto_decompress=False) as upstream:
            app = web.Application(client_max_size=64 * 1024 * 1024)

            async def handle(request: web.Request) -> web.StreamResponse:
                fault = self._fault_for(request.path)
                if fault is not None:
                    self.faulted += 1
                    return await _answer_fault(request, fault)
                body = await request.read()
                headers = {k: v for k, v in request.headers.items()
                           if k.lower() not in HOP_BY_HOP}
                async with upstream.request(request.method, self.upstream + request.path_qs,
                                            data=body, headers=headers,
                                            allow_redirects=False) as answer:
                    content = await answer.read()
                    kept = {k: v for k, v in answer.headers.items()
                            if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=answer.status, body=content, headers=kept)

            app.router.add_route("*", "/{tail:.*}", handle)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
            self._started.set()
            try:
                await self._stopping.wait()
            finally:
                await runner.cleanup()


async def _answer_fault(request: web.Request, fault: Fault) -> web.StreamResponse:
    if fault == "server_error":
        return web.json_response({"errcode": "M_UNKNOWN", "error": "Internal server error"},
                                 status=500)
    if fault == "unauthorized":
        return web.json_response({"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid token"},
                                 status=401)
    if fault == "not_json":
        return web.Response(status=200, text="<html>a captive portal</html>",
                            content_type="text/html")
    assert request.transport is not None
    request.transport.close()  # "dropped": the connection ends without an answer
    return web.Response(status=500)
