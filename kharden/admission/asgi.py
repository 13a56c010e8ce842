"""The ASGI app of `kharden serve`: tiny and dependency-free (any ASGI server runs it; kharden ships uvicorn's).

    POST /mutate, /validate    AdmissionReview admission.k8s.io/v1 (kharden.admission.review)
    GET  /healthz              200 while the process runs
    GET  /readyz               200 once the profile is loaded and until shutdown begins, else 503
    GET  /metrics              Prometheus text (kharden.admission.metrics)

Limits: a body over `max_body` bytes is refused with 413 before it is read (by its Content-Length) or as soon as
it passes the limit; a body not whole within `timeout` seconds gets 408. Every answer has a body: a request that is
no AdmissionReview gets 400 with the reason as JSON; an object kharden fails on is answered per the profile's
failurePolicy. One JSON log line per admission.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from typing import Any, Awaitable, Callable

from kharden.admission import review
from kharden.admission.memo import Memo
from kharden.admission.metrics import Metrics
from kharden.admission_settings import resolve
from kharden.profile import Profile, load_profile

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
CONFIG_ENV = "KHARDEN_SERVE_CONFIG"  # how `kharden serve` hands its options to each worker process
log = logging.getLogger("kharden.serve")


class TooLarge(Exception):
    pass


class App:
    def __init__(self, profile: Profile, *, max_body: int = 6 << 20, timeout: float = 10.0) -> None:
        self.profile = profile
        self.settings = resolve(profile.admission)
        self.max_body = max_body
        self.timeout = timeout
        self.metrics = Metrics(profile.name, digest(profile))
        self.memo = Memo(self.settings.cache)
        self.metrics.memo = self.memo
        self.ready = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path in ("/mutate", "/validate"):
            if method != "POST":
                return await _json(send, 405, {"error": f"{path} takes POST"})
            return await self._admit(path[1:], scope, receive, send)
        if method != "GET":
            return await _json(send, 405, {"error": f"{path} takes GET"})
        if path == "/healthz":
            return await _text(send, 200, "ok\n")
        if path == "/readyz":
            return await _text(send, 200 if self.ready else 503, "ready\n" if self.ready else "not ready\n")
        if path == "/metrics":
            return await _text(send, 200, self.metrics.text(), "text/plain; version=0.0.4; charset=utf-8")
        await _json(send, 404, {"error": f"no such path {path}; kharden serves /mutate, /validate, /healthz, "
                                         "/readyz, /metrics"})

    async def _admit(self, endpoint: str, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            body = await _within(self.timeout, self._body(scope, receive))
        except TooLarge:
            self.metrics.observe(endpoint, "too-large", 0.0)
            return await _json(send, 413, {"error": f"body over {self.max_body} bytes"}, close=True)
        except asyncio.TimeoutError:
            self.metrics.observe(endpoint, "timeout", self.timeout)
            return await _json(send, 408, {"error": f"body not received within {self.timeout:g} s"}, close=True)
        start = time.perf_counter()
        try:
            request = review.parse(body)
        except review.BadReview as e:
            self.metrics.observe(endpoint, "bad-request", time.perf_counter() - start)
            log.warning("bad request", extra={"fields": {"endpoint": endpoint, "error": str(e)}})
            return await _json(send, 400, {"error": str(e)})
        try:
            answer = review.answer(request, endpoint, self.profile, self.settings, self.memo)
        except Exception as e:  # a bug in kharden: the failurePolicy answers, and the log says what happened
            log.exception("internal error")
            answer = review.failed(request, self.settings, f"internal error: {type(e).__name__}: {e}")
        seconds = time.perf_counter() - start
        self.metrics.observe(endpoint, answer.result, seconds)
        if log.isEnabledFor(logging.INFO):  # `--log-level warning`: the line is not even built
            log.info("admission", extra={"fields": {"endpoint": endpoint, "result": answer.result,
                                                    "ms": round(seconds * 1000, 2), **answer.info}})
        await _json(send, 200, answer.response)

    async def _body(self, scope: Scope, receive: Receive) -> bytes:
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise TooLarge()
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise asyncio.TimeoutError()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                if message.get("more_body"):
                    await _drain(receive, self.max_body)
                raise TooLarge()
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)


async def _within(seconds: float, body: Awaitable[bytes]) -> bytes:
    """`body` awaited for at most `seconds` (asyncio.TimeoutError after): asyncio.timeout where Python has it (3.11),
    which wraps no task around each request as wait_for does."""
    timeout = getattr(asyncio, "timeout", None)
    if timeout is None:
        return await asyncio.wait_for(body, seconds)
    async with timeout(seconds):
        return await body


async def _drain(receive: Receive, limit: int) -> None:
    """Read and drop the rest of a body too large (at most `limit` more bytes, a second without data ends it):
    closing a TLS connection with data unread makes the kernel reset it, and the client may lose the 413."""
    dropped = 0
    try:
        while dropped <= limit:
            message = await asyncio.wait_for(receive(), 1.0)
            dropped += len(message.get("body", b""))
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                return
    except asyncio.TimeoutError:
        return


def digest(profile: Profile) -> str:
    """A short digest of the resolved profile: which version of it a process enforces, as /metrics tells."""
    text = json.dumps([profile.as_dict(), profile.admission], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


async def _json(send: Send, status: int, value: Any, close: bool = False) -> None:
    await _send(send, status, json.dumps(value).encode(), b"application/json", close)


async def _text(send: Send, status: int, text: str, ctype: str = "text/plain; charset=utf-8") -> None:
    await _send(send, status, text.encode(), ctype.encode(), False)


async def _send(send: Send, status: int, body: bytes, ctype: bytes, close: bool) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of a refused body is not read: the connection cannot be reused
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def from_environment() -> App:
    """The app of one worker process, from the options `kharden serve` put in the environment."""
    quiet_records()
    config = json.loads(os.environ[CONFIG_ENV])
    return App(load_profile(config["profile"]), max_body=config["maxBody"], timeout=config["timeout"])


def quiet_records() -> None:
    """What a log record gathers and no line of kharden's shows: the caller's file and line (a walk up the
    stack), the thread, the process's name (the Python logging HOWTO, "Optimization"). A quarter of a line's
    cost; the pid stays (every line has it)."""
    logging._srcfile = None  # the documented switch (logging HOWTO, "Optimization")
    logging.logThreads = False
    logging.logMultiprocessing = False
