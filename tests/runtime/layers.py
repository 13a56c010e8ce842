"""Image layers and OCI image layouts: what skopeo pushes to the registry and runc's root filesystem is made of.

An image is the shared base layer (a rootfs from `rootfs.py`) plus one small layer of its own (entrypoint, config
files, directories with the owners its Dockerfile gives them). Both are gzip-compressed once and cached by content.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

LAYER_TAR = "application/vnd.oci.image.layer.v1.tar+gzip"


@dataclass(frozen=True)
class Entry:
    """One path of an image's own layer: a file (text), a directory, or a symlink (target)."""

    path: str
    kind: str = "file"  # file | dir | link
    text: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True)
class Blob:
    digest: str
    size: int
    path: Path


def own_layer(entries: tuple[Entry, ...]) -> bytes:
    """The uncompressed tar of an image's own layer, byte-for-byte the same on every run."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in sorted(entries, key=lambda e: e.path):
            info = tarfile.TarInfo(entry.path.lstrip("/"))
            info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, 0
            data = entry.text.encode()
            if entry.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif entry.kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, entry.text
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if entry.kind == "file" else None)
    return buffer.getvalue()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def gzipped(tar: Path) -> tuple[Blob, str]:
    """The gzip blob of a layer tar, and the layer's diff_id; cached next to the tar."""
    target = tar.with_name(tar.name + ".gz")
    ids = tar.with_name(tar.name + ".ids")
    if not (target.is_file() and ids.is_file()):
        partial = target.with_name(target.name + ".partial")
        with tar.open("rb") as source, partial.open("wb") as sink:
            subprocess.run(["gzip", "-1", "-n", "-c"], stdin=source, stdout=sink, check=True)
        ids.write_text(json.dumps({"diff_id": sha256_file(tar), "digest": sha256_file(partial)}))
        partial.rename(target)
    known = json.loads(ids.read_text())
    return Blob(known["digest"], target.stat().st_size, target), known["diff_id"]


def write_layout(where: Path, tag: str, layers: list[Path], config: dict[str, object]) -> None:
    """An OCI image layout at `where` (blobs hard-linked from the cache) holding one image tagged `tag`."""
    shutil.rmtree(where, ignore_errors=True)
    blobs = where / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    descriptors, diff_ids = [], []
    for tar in layers:
        blob, diff_id = gzipped(tar)
        _link(blob.path, blobs / blob.digest.split(":")[1])
        descriptors.append({"mediaType": LAYER_TAR, "digest": blob.digest, "size": blob.size})
        diff_ids.append(diff_id)
    image = dict(config, rootfs={"type": "layers", "diff_ids": diff_ids})
    config_blob = _put(blobs, json.dumps(image, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config_blob},
                "layers": descriptors}
    manifest_blob = _put(blobs, json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                                **manifest_blob,
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (where / "index.json").write_text(json.dumps(index))
    (where / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))


def _put(blobs: Path, data: bytes) -> dict[str, object]:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def own_layer_file(cache: Path, entries: tuple[Entry, ...]) -> Path:
    """The image's own layer as a tar file in the cache, named by its content."""
    data = own_layer(entries)
    path = cache / "layers" / (hashlib.sha256(data).hexdigest()[:16] + ".tar")
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return path


