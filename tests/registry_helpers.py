"""A real registry for tests: Debian's `docker-registry` on a free loopback port, images pushed with `skopeo`.

    with registry() as reg:                                   # skips naming docker-registry/skopeo when missing
        layout = oci_layout(tmp / "layout", {"v1": image(user="101", volumes=["/data"], files=PASSWD)})
        reg.push(layout, "v1", "team/app:v1")                  # -> 127.0.0.1:PORT/team/app:v1

The images are OCI layouts made here in Python: a config JSON as a Dockerfile would set it (User, Volumes,
ExposedPorts, Entrypoint, Cmd, Env, WorkingDir) and tiny deterministic layer tars (an /etc/passwd, a file in a
VOLUME...). Same input, same bytes, same digests. Other test modules (the runtime proof in tests/runtime/, image
checks) build their images with these functions too.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import pathlib
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.request
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

Files = dict[str, "bytes | str | None"]  # path -> content; None: a directory


@dataclass
class Image:
    """One platform's image: its config section and its layers (each a dict of files), bottom first."""

    config: dict[str, Any]
    layers: list[Files] = field(default_factory=list)
    os: str = "linux"
    architecture: str = "amd64"
    variant: str | None = None


def image(*, user: str | None = None, volumes: list[str] = (), ports: list[str] = (), entrypoint: list[str] | None = None,
          cmd: list[str] | None = None, env: list[str] | None = None, workdir: str | None = None,
          layers: list[Files] | None = None, architecture: str = "amd64", variant: str | None = None) -> Image:
    config: dict[str, Any] = {"Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    if user is not None:
        config["User"] = user
    if volumes:
        config["Volumes"] = {v: {} for v in volumes}
    if ports:
        config["ExposedPorts"] = {p if "/" in p else p + "/tcp": {} for p in ports}
    if entrypoint is not None:
        config["Entrypoint"] = entrypoint
    if cmd is not None:
        config["Cmd"] = cmd
    if workdir is not None:
        config["WorkingDir"] = workdir
    return Image(config, layers if layers is not None else [], architecture=architecture, variant=variant)


def passwd(*users: tuple[str, int, int]) -> Files:
    """A layer with /etc/passwd and /etc/group for (name, uid, gid) besides root."""
    rows = [("root", 0, 0)] + list(users)
    return {
        "etc/": None,
        "etc/passwd": "".join(f"{n}:x:{u}:{g}:{n}:/home/{n}:/bin/sh\n" for n, u, g in rows),
        "etc/group": "".join(f"{n}:x:{g}:\n" for n, _, g in rows),
    }


def layer_tar(files: Files) -> bytes:
    """A gzipped tar of the files, deterministic (mtime 0, uid 0, sorted, no gzip name or time)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            content = files[path]
            info = tarfile.TarInfo(path.strip("/") + ("/" if content is None else ""))
            info.mtime = 0
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                data = content.encode() if isinstance(content, str) else content
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _put(blobs: pathlib.Path, data: bytes) -> dict[str, Any]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def _manifest(blobs: pathlib.Path, img: Image) -> dict[str, Any]:
    tars = [layer_tar(files) for files in img.layers]
    diff_ids = ["sha256:" + hashlib.sha256(gzip.decompress(t)).hexdigest() for t in tars]
    platform = {"architecture": img.architecture, "os": img.os, **({"variant": img.variant} if img.variant else {})}
    config = {**platform, "config": img.config, "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "created": "1970-01-01T00:00:00Z"}
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, **_put(blobs, json.dumps(config, sort_keys=True).encode())},
        "layers": [{"mediaType": OCI_LAYER, **_put(blobs, t)} for t in tars],
    }
    return {"mediaType": OCI_MANIFEST, **_put(blobs, json.dumps(manifest, sort_keys=True).encode()),
            "platform": platform}


def oci_layout(directory: pathlib.Path, tags: dict[str, Image | list[Image]]) -> pathlib.Path:
    """An OCI image layout; a tag given a list of images is a multi-platform index."""
    blobs = directory / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    (directory / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    entries = []
    for tag, images in tags.items():
        if isinstance(images, list):
            index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [_manifest(blobs, i) for i in images]}
            entry = {"mediaType": OCI_INDEX, **_put(blobs, json.dumps(index, sort_keys=True).encode())}
        else:
            entry = {k: v for k, v in _manifest(blobs, images).items() if k != "platform"}
        entries.append({**entry, "annotations": {"org.opencontainers.image.ref.name": tag}})
    (directory / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": entries}))
    return directory


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (Debian packages {' '.join(missing)}; .ci/run installs them)")


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    credentials: tuple[str, str] | None = None

    def push(self, layout: pathlib.Path, tag: str, target: str) -> str:
        """skopeo copy oci:LAYOUT:TAG docker://HOST/TARGET (all platforms, digests kept); returns the target."""
        command = ["skopeo", "--insecure-policy", "copy", "--quiet", "--all", "--preserve-digests",
                   "--dest-tls-verify=false", f"oci:{layout}:{tag}", f"docker://{self.host}/{target}"]
        if self.credentials:
            command[5:5] = ["--dest-creds", ":".join(self.credentials)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        return f"{self.host}/{target}"


def _htpasswd(path: pathlib.Path, user: str, password: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            pytest.skip("basic auth for docker-registry needs bcrypt hashes: Python's crypt module is missing")
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH)) if hasattr(crypt, "METHOD_BLOWFISH") else None
    if not hashed or not hashed.startswith("$2"):
        pytest.skip("basic auth for docker-registry needs bcrypt hashes: this libc's crypt has none")
    path.write_text(f"{user}:{hashed}\n")


@contextlib.contextmanager
def registry(credentials: tuple[str, str] | None = None) -> Iterator[Registry]:
    """A docker-registry process on a free loopback port with its own storage; stopped on exit."""
    require("docker-registry", "skopeo")
    with tempfile.TemporaryDirectory(prefix="kharden-registry-") as tmp:
        port = free_port()
        auth = ""
        if credentials:
            _htpasswd(pathlib.Path(tmp, "htpasswd"), *credentials)
            auth = f"auth:\n  htpasswd:\n    realm: kharden-test\n    path: {tmp}/htpasswd\n"
        config = pathlib.Path(tmp, "config.yml")
        config.write_text(f"version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {tmp}/data\n"
                          f"http:\n  addr: 127.0.0.1:{port}\n{auth}")
        log = open(pathlib.Path(tmp, "log"), "wb")
        process = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=log)
        try:
            _wait_ready(port, process, pathlib.Path(tmp, "log"))
            yield Registry(f"127.0.0.1:{port}", credentials)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            log.close()


def _wait_ready(port: int, process: subprocess.Popen[bytes], log: pathlib.Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 401 with auth on: it answers
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer on 127.0.0.1:{port}")
