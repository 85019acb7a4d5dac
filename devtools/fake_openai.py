"""A local OpenAI-compatible server that tests script: the one stand-in for the model API.

It speaks the real wire format (``POST /v1/chat/completions`` streaming SSE ``data: {...}``
chunks ending with ``data: [DONE]``, or one JSON completion; ``GET /v1/models``) and does what
each test queued, one step per request: a reply paced at a set tokens/second, tool-call deltas
with arguments split across chunks like the real API, the usage chunk (``choices: []``), an
HTTP error such as 429 with Retry-After and an OpenAI-style error body, a stall, or a cut
connection. It records every request so tests can assert the prompt, tools and max_tokens.

In tests: ``FakeOpenAI().start()`` (a server on a free port in its own thread). As a
process, for the bot's integration tests and the bench::

    python -m devtools.fake_openai --port 18080

which prints ``ready: http://127.0.0.1:18080/v1`` and is scripted over HTTP:
``POST /_fake/script`` (a JSON list of steps, see ``step_from_json``), ``GET /_fake/requests``,
``POST /_fake/reset``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

_WORDS = re.compile(r"\s*\S+\s*|\s+")


@dataclass(frozen=True)
class FakeToolCall:
    """A tool call the fake model makes; ``pieces`` is how many deltas carry the arguments."""

    name: str
    arguments: str
    id: str = ""
    pieces: int = 3


@dataclass(frozen=True)
class Reply:
    """A successful answer, streamed or not.

    ``stall_after``/``cut_after`` count the content and tool-call chunks sent before the
    server stalls for ``stall_s`` seconds or closes the connection.
    """

    text: str = "Hello from the fake model."
    tokens_per_second: float = 0.0  # 0: as fast as possible
    tool_calls: tuple[FakeToolCall, ...] = ()
    finish_reason: str | None = None  # None: "tool_calls" when there are calls, else "stop"
    send_usage: bool = True  # the usage chunk, when the request asked for it
    prompt_tokens: int | None = None  # None: a rough count of the request
    completion_tokens: int | None = None  # None: the number of chunks
    headers_delay_s: float = 0.0  # before the response starts
    first_chunk_delay_s: float = 0.0  # after the headers, before the first chunk
    stall_after: int | None = None
    stall_s: float = 0.0
    cut_after: int | None = None
    garbage_after: int | None = None  # then one ``data:`` line that is not JSON
    tool_call_index: bool = True  # False: leave ``index`` out, as some servers do
    send_finish: bool = True
    cut_after_finish: bool = False  # drop the connection before the usage chunk and [DONE]
    send_done: bool = True


@dataclass(frozen=True)
class Fail:
    """An HTTP error with an OpenAI-style body, e.g. 429 with Retry-After, or 500."""

    status: int = 500
    message: str = "The server had an error while processing your request."
    type: str = "server_error"
    code: str | None = None
    retry_after: str | None = None
    retry_after_ms: int | None = None
    delay_s: float = 0.0


Step = Reply | Fail


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]
    received_at: float
    query: dict[str, str] = field(default_factory=dict)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of the request."""
        return list(self.body.get("messages", []))

    @property
    def tools(self) -> list[dict[str, Any]]:
        """The tools offered."""
        return list(self.body.get("tools", []))

    @property
    def max_tokens(self) -> int | None:
        """max_tokens or max_completion_tokens, whichever was sent."""
        value = self.body.get("max_tokens", self.body.get("max_completion_tokens"))
        return None if value is None else int(value)


def step_to_json(step: Step) -> dict[str, Any]:
    """A step as JSON for ``POST /_fake/script``."""
    return {"step": "reply" if isinstance(step, Reply) else "fail", **dataclasses.asdict(step)}


def step_from_json(raw: dict[str, Any]) -> Step:
    """A step from JSON: ``{"step": "reply", "text": ...}`` or ``{"step": "fail", ...}``."""
    data = {key: value for key, value in raw.items() if key != "step"}
    if raw.get("step", "reply") == "fail":
        return Fail(**data)
    calls = tuple(FakeToolCall(**call) for call in data.pop("tool_calls", ()))
    return Reply(tool_calls=calls, **data)


@dataclass
class _Shared:
    """State shared between the test thread and the server thread."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    steps: deque[Step] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)


class FakeOpenAI:
    """The server; start() runs it in a thread, ``run_forever`` in the current one."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, api_key: str | None = None,
                 default: Reply | None = None, models: tuple[str, ...] = ("gpt-4o",
                                                                          "gpt-4o-mini")) -> None:
        self.host = host
        self.port = port
        self.api_key = api_key
        self.default = default or Reply()
        self.models = models
        self._shared = _Shared()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._stopping: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    # --- scripting (thread-safe) ------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What to give the client as base URL."""
        return f"http://{self.host}:{self.port}/v1"

    def push(self, *steps: Step) -> None:
        """Queue steps; each request takes the next one (the default reply when none is left)."""
        with self._shared.lock:
            self._shared.steps.extend(steps)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The chat-completion requests received so far."""
        with self._shared.lock:
            return list(self._shared.requests)

    def reset(self) -> None:
        """Forget queued steps and recorded requests."""
        with self._shared.lock:
            self._shared.steps.clear()
            self._shared.requests.clear()

    def _next_step(self) -> Step:
        with self._shared.lock:
            return self._shared.steps.popleft() if self._shared.steps else self.default

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Serve in a background thread until stop()."""
        self._thread = threading.Thread(target=self._thread_main, name="fake-openai",
                                        daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("fake OpenAI server did not start")

    def stop(self) -> None:
        """Stop serving; stalled responses are abandoned at once."""
        loop = self._loop
        if loop is not None and self._stopping is not None:
            loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(10)

    def _thread_main(self) -> None:
        asyncio.run(self.run_forever())

    async def run_forever(self, on_ready: Any = None) -> None:
        """Serve until stop() (or cancellation)."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/_fake/script", self._script)
        app.router.add_get("/_fake/requests", self._recorded)
        app.router.add_post("/_fake/reset", self._reset)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # the listening socket tells us the port we were given
            self.port = int(self._runner.addresses[0][1])
        self._started.set()
        if on_ready is not None:
            on_ready(self)
        try:
            await self._stopping.wait()
        finally:
            await self._runner.cleanup()

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the server stops."""
        assert self._stopping is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- handlers ----------------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        return self.api_key is None or (
            request.headers.get("Authorization") == f"Bearer {self.api_key}")

    async def _models(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error",
                          "invalid_api_key")
        data = [{"id": name, "object": "model", "created": 1_700_000_000,
                 "owned_by": "hearth-fake"} for name in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return _error(400, "We could not parse the JSON body of your request.",
                          "invalid_request_error", None)
        with self._shared.lock:
            self._shared.requests.append(RecordedRequest(
                request.method, request.path,
                {key.lower(): value for key, value in request.headers.items()}, body,
                time.monotonic(),
                dict(request.query)))
        if not self._authorised(request):
            return _error(401, "Incorrect API key provided.", "invalid_request_error",
                          "invalid_api_key")
        step = self._next_step()
        if isinstance(step, Fail):
            await self._pause(step.delay_s)
            headers = {}
            if step.retry_after is not None:
                headers["Retry-After"] = step.retry_after
            if step.retry_after_ms is not None:
                headers["retry-after-ms"] = str(step.retry_after_ms)
            return _error(step.status, step.message, step.type, step.code, headers)
        await self._pause(step.headers_delay_s)
        if body.get("stream"):
            return await self._stream(request, body, step)
        return web.json_response(_completion(body, step))

    async def _stream(self, request: web.Request, body: dict[str, Any],
                      step: Reply) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-cache"})
        await response.prepare(request)
        await self._pause(step.first_chunk_delay_s)
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunk = _ChunkMaker(body.get("model", "fake"), with_usage)
        interval = 1 / step.tokens_per_second if step.tokens_per_second > 0 else 0.0
        sent = 0
        try:
            await _send(response, chunk.delta({"role": "assistant", "content": ""}))
            for delta in _deltas(step):
                if step.cut_after is not None and sent >= step.cut_after:
                    _cut(request)
                    return response
                if step.garbage_after is not None and sent == step.garbage_after:
                    await response.write(b"data: {this is not json\n\n")
                if step.stall_after is not None and sent == step.stall_after:
                    await self._pause(step.stall_s)
                if interval and sent:
                    await self._pause(interval)
                await _send(response, chunk.delta(delta))
                sent += 1
            if step.cut_after is not None and sent >= step.cut_after:
                _cut(request)
                return response
            if step.send_finish:
                await _send(response, chunk.finish(_finish_reason(step)))
            if step.cut_after_finish:
                _cut(request)
                return response
            if with_usage and step.send_usage:
                await _send(response, chunk.usage(_usage(body, step, sent)))
            if step.send_done:
                await response.write(b"data: [DONE]\n\n")
            await response.write_eof()
        except (ConnectionResetError, ConnectionError, RuntimeError):
            pass  # the client went away (e.g. it timed out a stall): nothing left to do
        return response

    # --- control API for a separate process --------------------------------------------------

    async def _script(self, request: web.Request) -> web.Response:
        steps = [step_from_json(raw) for raw in await request.json()]
        self.push(*steps)
        return web.json_response({"queued": len(steps)})

    async def _recorded(self, request: web.Request) -> web.Response:
        return web.json_response([dataclasses.asdict(item) for item in self.requests])

    async def _reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({})


class _ChunkMaker:
    """chat.completion.chunk objects of one response, as OpenAI sends them."""

    def __init__(self, model: str, with_usage: bool) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.model = model
        self.with_usage = with_usage

    def _base(self, choices: list[dict[str, Any]]) -> dict[str, Any]:
        chunk: dict[str, Any] = {"id": self.id, "object": "chat.completion.chunk",
                                 "created": self.created, "model": self.model,
                                 "system_fingerprint": "fp_fake", "choices": choices}
        if self.with_usage:
            chunk["usage"] = None  # every chunk but the last carries usage: null
        return chunk

    def delta(self, delta: dict[str, Any]) -> dict[str, Any]:
        return self._base([{"index": 0, "delta": delta, "logprobs": None,
                            "finish_reason": None}])

    def finish(self, reason: str) -> dict[str, Any]:
        return self._base([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}])

    def usage(self, usage: dict[str, int]) -> dict[str, Any]:
        chunk = self._base([])
        chunk["usage"] = usage
        return chunk


def _split(text: str, pieces: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, pieces)))
    return [text[i:i + size] for i in range(0, len(text), size)] or [""]


def _deltas(step: Reply) -> Iterator[dict[str, Any]]:
    """Content deltas (one word each), then each tool call: its header, then argument pieces."""
    for word in _WORDS.findall(step.text):
        yield {"content": word}
    for index, call in enumerate(step.tool_calls):
        call_id = call.id or f"call_{uuid.uuid4().hex[:24]}"
        if not step.tool_call_index:  # the whole call in one delta, without an index
            yield {"tool_calls": [{"id": call_id, "type": "function", "function": {
                "name": call.name, "arguments": call.arguments}}]}
            continue
        yield {"tool_calls": [{"index": index, "id": call_id, "type": "function",
                               "function": {"name": call.name, "arguments": ""}}]}
        for piece in _split(call.arguments, call.pieces):
            yield {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}


def _finish_reason(step: Reply) -> str:
    return step.finish_reason or ("tool_calls" if step.tool_calls else "stop")


def _usage(body: dict[str, Any], step: Reply, chunks: int) -> dict[str, int]:
    prompt = step.prompt_tokens
    if prompt is None:
        text = "".join(str(m.get("content") or "") for m in body.get("messages", []))
        prompt = len(text) // 4 + 3 * len(body.get("messages", [])) + 3
    completion = step.completion_tokens if step.completion_tokens is not None else chunks
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion}


def _completion(body: dict[str, Any], step: Reply) -> dict[str, Any]:
    """A non-streaming chat.completion."""
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None,
                               "refusal": None}
    if step.tool_calls:
        message["tool_calls"] = [
            {"id": call.id or f"call_{index}", "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for index, call in enumerate(step.tool_calls)
        ]
    chunks = len(_WORDS.findall(step.text)) + sum(call.pieces + 1 for call in step.tool_calls)
    return {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "fake"),
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": _finish_reason(step)}],
            "usage": _usage(body, step, chunks)}


async def _send(response: web.StreamResponse, chunk: dict[str, Any]) -> None:
    await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")


def _cut(request: web.Request) -> None:
    """Drop the connection mid-body, as a crashed proxy or upstream would."""
    if request.transport is not None:
        request.transport.abort()


def _error(status: int, message: str, kind: str, code: str | None,
           headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": kind, "param": None, "code": code}},
        status=status, headers=headers)


def main(argv: list[str] | None = None) -> None:
    """Run as a process: ``python -m devtools.fake_openai --port N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--api-key", default=None, help="require this bearer key")
    parser.add_argument("--reply", default=Reply().text, help="the default answer")
    parser.add_argument("--tokens-per-second", type=float, default=0.0,
                        help="pace of the default answer (0: as fast as possible)")
    args = parser.parse_args(argv)
    server = FakeOpenAI(args.host, args.port, args.api_key,
                        Reply(text=args.reply, tokens_per_second=args.tokens_per_second))

    def ready(srv: FakeOpenAI) -> None:
        print(f"ready: {srv.base_url}", flush=True)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.run_forever(on_ready=ready))


if __name__ == "__main__":
    main()
