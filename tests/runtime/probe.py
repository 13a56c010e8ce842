"""One attempt to talk to a server on 127.0.0.1:PORT; run inside the pod's network namespace (nsenter).

Prints the server's first reply line and exits 0 when it answers as that server does, else exits 1.
`python -m tests.runtime.probe PORT KIND` with KIND http | redis | memcached | postgres.
"""

from __future__ import annotations

import socket
import struct
import sys

QUESTIONS = {
    "http": (b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", b"HTTP/1.1 200"),
    "redis": (b"PING\r\n", b"+PONG"),
    "memcached": (b"version\r\n", b"VERSION"),
    # SSLRequest: a PostgreSQL server answers one byte, N (no SSL) or S.
    "postgres": (struct.pack("!ii", 8, 80877103), b"N"),
}


def ask(port: int, kind: str) -> tuple[bool, str]:
    question, answer = QUESTIONS[kind]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(question)
            reply = sock.recv(256)
    except OSError as error:
        return False, f"{type(error).__name__}: {error.strerror or error}"
    line = reply.split(b"\r\n")[0].decode(errors="replace")
    return reply.startswith(answer), line


if __name__ == "__main__":
    ok, said = ask(int(sys.argv[1]), sys.argv[2])
    print(said)
    sys.exit(0 if ok else 1)
