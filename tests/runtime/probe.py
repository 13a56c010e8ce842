"""One attempt to talk to a server on 127.0.0.1:PORT; run inside the pod's network namespace (nsenter).

Prints the server's first reply lines and exits 0 when it answers as that server does, 1 when it answers
otherwise, 2 when nothing answers (connection refused, timeout).
`python -m tests.runtime.probe PORT KIND` with KIND http | redis | memcached | postgres.
"""

from __future__ import annotations

import socket
import struct
import sys

QUESTIONS = {
    "http": (b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", b"HTTP/1.1 200"),
    # A redis that answers but cannot write its dump into /data is not serving: ask it to save too.
    "redis": (b"PING\r\nSAVE\r\n", b"+PONG\r\n+OK"),
    "memcached": (b"version\r\n", b"VERSION"),
    # SSLRequest: a PostgreSQL server answers one byte, N (no SSL) or S.
    "postgres": (struct.pack("!ii", 8, 80877103), b"N"),
}


def ask(port: int, kind: str) -> tuple[bool | None, str]:
    """(True, reply) when it answers as expected, (False, reply) when it answers otherwise, (None, why) when not."""
    question, answer = QUESTIONS[kind]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(question)
            reply = _replies(sock, question.count(b"\r\n") if kind == "redis" else 0)
    except OSError as error:
        return None, f"{type(error).__name__}: {error.strerror or error}"
    said = " ".join(line.decode(errors="replace") for line in reply.split(b"\r\n")[:2] if line)
    return reply.startswith(answer), said


def _replies(sock: socket.socket, lines: int) -> bytes:
    """What the server says until it has given `lines` CRLF-ended lines (0: its first packet)."""
    reply = sock.recv(256)
    while reply and reply.count(b"\r\n") < lines:
        more = sock.recv(256)
        if not more:
            break
        reply += more
    return reply


if __name__ == "__main__":
    ok, said = ask(int(sys.argv[1]), sys.argv[2])
    print(said)
    sys.exit({True: 0, False: 1, None: 2}[ok])
