"""`kharden serve` on uvicorn: HTTPS with certificates reloaded when rotated, a deadline for slow clients, worker
processes, graceful drain and JSON logs.

Why uvicorn: the most used Python ASGI server (the default of FastAPI and Starlette), maintained by Encode, with
pre-fork workers and a supervisor that replaces a worker that dies, HTTP/1.1 keep-alive, SIGTERM drain with a
deadline (`timeout_graceful_shutdown`), and, since 0.3x, an `ssl_context_factory` hook that lets kharden keep the
SSLContext it serves with and load a rotated certificate into it. Its pure-Python h11 parser is used (no compiled
extras needed).

TLS rotation: cert-manager rewrites the Secret; the kubelet swaps the mounted files atomically. Every
`TLS_POLL_SECONDS` each process compares the files' (inode, size, mtime) and, on a change, loads the new pair into
the same SSLContext: connections made from then on present the new certificate, open ones keep theirs. A pair that
does not load (half-written) is retried on the next poll; the old one stays in use.

Slow clients: uvicorn bounds the idle time between requests (keep-alive) but not the time a request's head takes
to arrive. `DeadlineH11` closes a connection whose request head is not whole within the request timeout (a client
sending a byte a second); the body's deadline is the app's (kharden.admission.asgi).
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from typing import Any, Callable

from uvicorn.protocols.http.h11_impl import H11Protocol

from kharden.admission.asgi import CONFIG_ENV

TLS_POLL_SECONDS = float(os.environ.get("KHARDEN_TLS_POLL_SECONDS", "10"))
HEAD_TIMEOUT = float(os.environ.get("KHARDEN_HEAD_TIMEOUT_SECONDS", "10"))
log = logging.getLogger("kharden.serve")


def serve(profile: str, cert: str, key: str, host: str, port: int, *, workers: int = 1, max_body: int = 6 << 20,
          timeout: float = 10.0, drain: int = 20, log_level: str = "info") -> None:
    """Run until SIGTERM/SIGINT, then stop accepting, finish what is in flight (at most `drain` seconds), exit."""
    import uvicorn

    import signal
    import sys

    # uvicorn raises the signal again once drained; a drained server exits 0 (Kubernetes reads it as a clean stop)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: sys.exit(0))
    os.environ[CONFIG_ENV] = json.dumps({"profile": profile, "maxBody": max_body, "timeout": timeout})
    global HEAD_TIMEOUT
    HEAD_TIMEOUT = timeout  # this process (one worker), and through the environment each spawned worker
    os.environ["KHARDEN_HEAD_TIMEOUT_SECONDS"] = str(timeout)
    uvicorn.run(
        "kharden.admission.asgi:from_environment", factory=True, host=host, port=port, workers=workers,
        ssl_certfile=cert, ssl_keyfile=key, ssl_context_factory=reloading_context,
        http=protocol(), lifespan="on", timeout_keep_alive=75, timeout_graceful_shutdown=drain,
        access_log=False, log_config=log_config(log_level), server_header=False, proxy_headers=False,
        h11_max_incomplete_event_size=64 << 10,
    )


def reloading_context(config: Any, default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
    """uvicorn's SSLContext from the files, and a thread that loads the files again into it when they change."""
    ctx = default()
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    cert, key = str(config.ssl_certfile), str(config.ssl_keyfile)
    thread = threading.Thread(target=_watch, args=(ctx, cert, key), name="kharden-tls-reload", daemon=True)
    thread.start()
    return ctx


def _stamp(*paths: str) -> tuple[tuple[int, int, int], ...] | None:
    try:
        return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in map(os.stat, paths))
    except OSError:
        return None


def _watch(ctx: ssl.SSLContext, cert: str, key: str) -> None:
    seen = _stamp(cert, key)
    while True:
        threading.Event().wait(TLS_POLL_SECONDS)
        now = _stamp(cert, key)
        if now is None or now == seen:
            continue
        try:
            ctx.load_cert_chain(cert, key)
        except (OSError, ssl.SSLError) as e:  # half-written: try again next time, keep serving the old pair
            log.warning("tls reload failed", extra={"fields": {"error": str(e)}})
            continue
        seen = now
        log.info("tls reloaded", extra={"fields": {"cert": cert}})


HEAD_LIMIT = 64 << 10  # bytes a request head may take (h11's incomplete-event limit does the same for h11)


class _Deadline:
    """For uvicorn's HTTP protocols: close a connection whose request head does not arrive whole in time, or
    grows past HEAD_LIMIT (httptools has no limit of its own)."""

    _deadline: Any = None
    _head_bytes = 0
    cycle: Any
    loop: Any
    transport: Any
    client: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]  # a mixin: uvicorn's protocol is next in line
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and (self.cycle is None or self.cycle.response_complete):
            self._arm()  # the first bytes of a new request: its head must follow in time
        if self._deadline is not None:
            self._head_bytes += len(data)
        super().data_received(data)  # type: ignore[misc]  # a mixin, as above
        if self.cycle is not None and not self.cycle.response_complete:
            self._disarm()  # the head is whole: the app bounds the body
        elif self._deadline is not None and self._head_bytes > HEAD_LIMIT:
            self._close("request head too large")  # still no whole head after this many bytes

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]  # a mixin, as above

    def shutdown(self) -> None:
        """Drain: uvicorn closes an idle connection (a busy one after its response); over TLS the close waits for the
        peer's close_notify, which an idle client never reads to send. Abort what is still open a second later, so
        a drain lasts as long as the requests in flight, not the TLS shutdown timeout."""
        super().shutdown()  # type: ignore[misc]  # a mixin, as above
        self.loop.call_later(1.0, self._abort_if_idle)

    def _abort_if_idle(self) -> None:
        if self.cycle is None or self.cycle.response_complete:
            self.transport.abort()
        else:
            self.loop.call_later(1.0, self._abort_if_idle)

    def _arm(self) -> None:
        self._disarm()
        self._head_bytes = 0
        self._deadline = self.loop.call_later(HEAD_TIMEOUT, self._close, "request head too slow")

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _close(self, why: str) -> None:
        self._disarm()
        log.warning(f"{why}: connection closed", extra={"fields": {"client": str(self.client)}})
        self.transport.close()


class DeadlineH11(_Deadline, H11Protocol):
    """uvicorn's h11 protocol (pure Python) with the head deadline."""


try:  # httptools: uvicorn's C parser (`pip install httptools`), about twice as fast as h11
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class DeadlineHttpTools(_Deadline, HttpToolsProtocol):
        """uvicorn's httptools protocol with the head deadline and size limit."""

except ImportError:
    DeadlineHttpTools = None  # type: ignore[assignment,misc]  # no httptools: the server uses h11


def protocol() -> type:
    """httptools when installed, else h11; KHARDEN_HTTP=h11 chooses h11."""
    if DeadlineHttpTools is not None and os.environ.get("KHARDEN_HTTP") != "h11":
        return DeadlineHttpTools
    return DeadlineH11


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (RFC 3339, UTC, microseconds), level, logger, message and the record's
    `fields`. A line per admission: the time's seconds are formatted once per second."""

    _second: tuple[int, str] = (-1, "")

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": self._time(record.created),
                "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
                "pid": record.process, **getattr(record, "fields", {})}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)

    def _time(self, created: float) -> str:
        second = int(created)
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{int((created - second) * 1e6):06d}+00:00"


LOG_LEVELS = ("info", "warning", "error")


def log_config(level: str = "info") -> dict[str, Any]:
    """JSON lines on stderr at `level`: info has a line per admission; warning keeps only what went wrong (bad
    requests, slow clients, TLS reloads that failed, kharden's own errors), and a line not logged costs nothing."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "kharden.admission.server.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "loggers": {name: {"handlers": ["stderr"], "level": level.upper(), "propagate": False}
                    for name in ("uvicorn", "uvicorn.error", "kharden.serve")},
    }

