"""`kharden serve` under faults: every bad request gets an answer with a body, within its limits, and the server
keeps serving; with two worker processes, killing one mid-load loses no admission (a retry reaches the other)."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

pytest.importorskip("uvicorn", reason="kharden serve needs uvicorn (pip install 'kharden[serve]')")
pytest.importorskip("cryptography", reason="the test certificates need the cryptography package")

from tests.admission_helpers import Client, Server, admission_review, start  # noqa: E402

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    s = start(tmp_path_factory.mktemp("faults"), "restricted", "--timeout", "1", "--workers", "2",
              "--max-body", str(1 << 20), "--log-level", "warning")
    yield s
    s.stop()


def still_serves(server: Server) -> None:
    assert server.client().review("/mutate", POD)["allowed"] is True


def raw(server: Server) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(server.ca))
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", server.port), timeout=20),
                           server_hostname="localhost")


def reply_of(s: ssl.SSLSocket) -> bytes:
    """Everything the server sends until it closes the connection (each test's reply closes it)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionError, ssl.SSLError):
            return data
        if not chunk:
            return data
        data += chunk


def test_log_level_warning_logs_what_went_wrong_only(server: Server) -> None:
    still_serves(server)
    server.client().request("POST", "/validate", b"[1, 2")
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(entry["msg"] == "bad request" and "not JSON" in entry["error"] for entry in lines), lines
    assert not any(entry["msg"] == "admission" for entry in lines)


def test_malformed_json_is_400_with_the_reason(server: Server) -> None:
    status, body = server.client().request("POST", "/mutate", b'{"apiVersion": "admission.k8s.io/v1", ')
    assert status == 400 and "not JSON" in json.loads(body)["error"]
    still_serves(server)


def test_wrong_api_version_is_400_with_the_reason(server: Server) -> None:
    review = {**admission_review(POD), "apiVersion": "admission.k8s.io/v1beta1"}
    status, body = server.client().request("POST", "/validate", json.dumps(review).encode())
    assert status == 400 and "admission.k8s.io/v1beta1" in json.loads(body)["error"]
    still_serves(server)


def test_unknown_kind_is_allowed_untouched(server: Server) -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"a": 1}}
    assert server.client().review("/mutate", widget) == {"uid": "u-1", "allowed": True}


def test_a_10_mb_body_is_refused_before_it_is_read(server: Server) -> None:
    with raw(server) as s:
        # the head alone: the answer must come before any of the body is sent (and nothing unread makes the
        # closing server reset the connection, which could lose the answer on a busy machine)
        s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 10485760\r\n\r\n")
        reply = reply_of(s)
    assert reply.startswith(b"HTTP/1.1 413") and b"body over 1048576 bytes" in reply
    still_serves(server)


def test_a_chunked_body_over_the_limit_is_refused(server: Server) -> None:
    chunk = b"%x\r\n%s\r\n" % (64 << 10, b" " * (64 << 10))
    with raw(server) as s:
        s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(24):  # 1.5 MiB, over the 1 MiB limit, then the end of the body
            s.sendall(chunk)
        s.sendall(b"0\r\n\r\n")
        reply = reply_of(s)
    assert reply.startswith(b"HTTP/1.1 413") and b"body over" in reply
    still_serves(server)


def test_a_client_sending_a_byte_a_second_is_cut_off(server: Server) -> None:
    head = b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n"
    closed_after = None
    with raw(server) as s:
        for i, byte in enumerate(head):  # --timeout 1: the head must be whole within a second
            try:
                s.sendall(bytes([byte]))
                s.settimeout(0.3)
                if s.recv(1024) == b"":
                    closed_after = i
                    break
            except TimeoutError:
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                closed_after = i
                break
            if i == 3:
                still_serves(server)  # the slow client holds no one else up
    assert closed_after is not None and closed_after < len(head) - 1


def test_a_request_head_over_64_kib_is_cut_off(server: Server) -> None:
    with raw(server) as s:
        try:
            s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * (128 << 10))
            reply = reply_of(s)
        except (ConnectionError, ssl.SSLError):  # closed while the head was still being sent
            reply = b""
    assert not reply.startswith(b"HTTP/1.1 200")
    assert "request head too large" in server.log.read_text()
    still_serves(server)


def test_a_body_that_never_comes_is_408(server: Server) -> None:
    with raw(server) as s:
        s.sendall(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\n{")
        reply = reply_of(s)
    assert reply.startswith(b"HTTP/1.1 408") and b"not received within 1 s" in reply


def _workers(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"resource_tracker" not in cmd:
                out.append(int(entry))
    return out


def test_killing_one_of_two_processes_mid_load_loses_no_admission(server: Server) -> None:
    for _ in range(600):  # on a busy machine the second worker may still be starting
        workers = _workers(server.proc.pid)
        if len(workers) == 2:
            break
        time.sleep(0.1)
    assert len(workers) == 2, workers
    answered: dict[str, Any] = {}
    retries = [0]
    errors: list[str] = []
    done = threading.Event()

    def load(n: int) -> None:
        client = server.client(10)
        for i in range(60):
            uid = f"{n}-{i}"
            for _attempt in range(5):  # as the API server would: a failed call is retried on a new connection
                try:
                    answered[uid] = client.review("/mutate", POD, uid=uid)
                    break
                except Exception as e:  # any failed call (reset, incomplete read, non-200) is retried
                    errors.append(repr(e)[:200])
                    retries[0] += 1
                    client.close()
                    time.sleep(0.05)
            if len(answered) == 40:
                done.set()

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    assert done.wait(60)
    os.kill(workers[0], signal.SIGKILL)
    for t in threads:
        t.join(120)
    assert len(answered) == 240, (f"{240 - len(answered)} admissions lost", errors)
    assert all(a["uid"] == uid and a["allowed"] for uid, a in answered.items())
    still_serves(server)


def test_a_rotated_certificate_is_served_without_a_restart(tmp_path: Path) -> None:
    from kharden.admission.certs import self_signed, write_private

    s = start(tmp_path, "restricted", env={"KHARDEN_TLS_POLL_SECONDS": "0.2"})
    try:
        old = s.client()
        assert old.get("/healthz")[0] == 200  # a keep-alive connection made with the first certificate
        pair = self_signed(["localhost", "127.0.0.1"])
        (tmp_path / "new-ca.pem").write_bytes(pair.ca_pem)
        write_private(str(tmp_path / "tls.key.new"), pair.key_pem)
        (tmp_path / "tls.crt.new").write_bytes(pair.cert_pem)
        os.replace(tmp_path / "tls.key.new", tmp_path / "tls.key")  # as the kubelet swaps a Secret: atomically
        os.replace(tmp_path / "tls.crt.new", tmp_path / "tls.crt")
        rotated = Client(s.port, tmp_path / "new-ca.pem", 5)
        for _ in range(100):
            try:
                if rotated.get("/healthz")[0] == 200:
                    break
            except ssl.SSLError:
                time.sleep(0.1)
        else:
            pytest.fail("the rotated certificate was never served")
        assert old.get("/healthz")[0] == 200  # the open connection was not dropped
        assert "tls reloaded" in s.log.read_text()
    finally:
        s.stop()


def test_sigterm_drains_and_exits_cleanly(tmp_path: Path) -> None:
    s = start(tmp_path, "restricted")
    client = s.client()
    assert client.review("/mutate", POD)["allowed"]
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(30) == 0
    assert "Finished server process" in s.log.read_text()
