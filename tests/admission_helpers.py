"""Start a real `kharden serve` over TLS and talk to it with keep-alive connections (tests and benchmarks)."""

from __future__ import annotations

import base64
import datetime
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonpatch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_certs(directory: Path) -> tuple[Path, Path, Path]:
    """A self-signed CA and a serving certificate for 127.0.0.1 and localhost: (ca, cert, key)."""
    from kharden.admission.certs import self_signed, write_private

    pair = self_signed(["localhost", "127.0.0.1"])
    ca, cert, key = directory / "ca.pem", directory / "tls.crt", directory / "tls.key"
    ca.write_bytes(pair.ca_pem)
    cert.write_bytes(pair.cert_pem)
    write_private(str(key), pair.key_pem)
    return ca, cert, key


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    ca: Path
    log: Path

    def client(self, timeout: float = 30) -> Client:
        return Client(self.port, self.ca, timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start(directory: Path, profile: str = "restricted", *extra: str, env: dict[str, str] | None = None) -> Server:
    ca, cert, key = write_certs(directory)
    port = free_port()
    log = directory / f"serve-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kharden", "serve", "--profile", profile, "--tls-cert", str(cert), "--tls-key",
         str(key), "--listen", f"127.0.0.1:{port}", *extra],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"), env={**os.environ, **(env or {})},
    )
    server = Server(proc, port, ca, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kharden serve exited: {log.read_text()}")
        try:
            if server.client(2).get("/readyz")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"kharden serve did not become ready: {log.read_text()}")


class Client:
    """One keep-alive HTTPS connection (reopened when the server closed it), trusting only the test CA."""

    def __init__(self, port: int, ca: Path, timeout: float = 30) -> None:
        self.ctx = ssl.create_default_context(cafile=str(ca))
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPSConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.conn is None:
            self.conn = http.client.HTTPSConnection("localhost", self.port, context=self.ctx, timeout=self.timeout)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            self.conn.request(method, path, body=body, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.getheader("connection", "").lower() == "close":
                self.close()
            return resp.status, data
        except Exception:
            self.close()
            raise

    def get(self, path: str) -> tuple[int, bytes]:
        return self.request("GET", path)

    def review(self, path: str, obj: Any, **request: Any) -> dict[str, Any]:
        status, data = self.request("POST", path, json.dumps(admission_review(obj, **request)).encode())
        assert status == 200, (status, data)
        return json.loads(data)["response"]  # type: ignore[no-any-return]

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def admission_review(obj: Any, operation: str = "CREATE", uid: str = "u-1", **request: Any) -> dict[str, Any]:
    """An AdmissionReview as the API server sends it for `obj`."""
    meta = obj.get("metadata") or {} if isinstance(obj, dict) else {}
    group, _, version = str(obj.get("apiVersion", "v1")).rpartition("/") if isinstance(obj, dict) else ("", "", "v1")
    kind = {"group": group, "version": version, "kind": obj.get("kind") if isinstance(obj, dict) else None}
    req = {"uid": uid, "kind": kind, "resource": kind, "operation": operation, "name": meta.get("name"),
           "namespace": meta.get("namespace", "default"), "userInfo": {"username": "tester"}, "object": obj,
           "oldObject": None, "dryRun": False, **request}
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": req}


def as_json(value: Any) -> Any:
    """A parsed YAML value as the API server would send it: timestamps as RFC 3339 strings, keys as strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat().replace("+00:00", "Z")
    return value


def patched(obj: Any, response: dict[str, Any]) -> Any:
    """`obj` with the response's JSON patch applied (itself when there is none)."""
    if "patch" not in response:
        return obj
    assert response["patchType"] == "JSONPatch"
    return jsonpatch.apply_patch(obj, json.loads(base64.b64decode(response["patch"])))
