"""What an image's layers say that its config does not: the users in /etc/passwd, and what a VOLUME holds.

Read only when the config leaves a question (a named `USER`, or `VOLUME`s): the layers are applied bottom first
as a runtime would unpack them, with OCI whiteouts (`.wh.NAME` removes NAME; `.wh..wh..opq` empties the
directory below that layer), keeping only /etc/passwd, /etc/group and the paths under each VOLUME.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    import tarfile

PASSWD, GROUP = "etc/passwd", "etc/group"
WHITEOUT, OPAQUE = ".wh.", ".wh..wh..opq"


@dataclass(frozen=True)
class LayerFacts:
    users: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (uid, primary gid)
    groups: dict[str, int] = field(default_factory=dict)  # name -> gid
    contents: dict[str, list[str]] = field(default_factory=dict)  # VOLUME path -> files the image holds below it

    def as_json(self) -> dict[str, object]:
        return {"users": {k: list(v) for k, v in self.users.items()}, "groups": self.groups,
                "contents": self.contents}

    @staticmethod
    def from_json(data: dict[str, object]) -> LayerFacts:
        users = {str(k): (int(v[0]), int(v[1])) for k, v in dict(data.get("users") or {}).items()}  # type: ignore[call-overload]
        return LayerFacts(users, dict(data.get("groups") or {}), dict(data.get("contents") or {}))  # type: ignore[call-overload]


def scan(layers: Iterable[bytes], volumes: Iterable[str]) -> LayerFacts:
    """Apply the layers (compressed or not tars, bottom first) and read what kharden needs from the result."""
    import tarfile  # here: only a run that reads image layers (--resolve-images) pays for its import

    roots = [v.strip("/") for v in volumes if v.strip("/")]
    files: dict[str, bytes | None] = {}  # kept paths -> content (None: not read)
    for blob in layers:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:*") as tar:
            for member in tar:
                _apply(tar, member, files, roots)
    users, groups = _passwd(files.get(PASSWD)), _group(files.get(GROUP))
    contents = {"/" + r: sorted("/" + p for p in files if p.startswith(r + "/")) for r in roots}
    return LayerFacts(users, groups, contents)


def _apply(tar: tarfile.TarFile, member: tarfile.TarInfo, files: dict[str, bytes | None], roots: list[str]) -> None:
    path = member.name.lstrip("./").rstrip("/") if member.name not in (".", "./") else ""
    head, _, base = path.rpartition("/")
    if base == OPAQUE:
        for p in [p for p in files if p.startswith(head + "/")]:
            del files[p]
        return
    if base.startswith(WHITEOUT):
        gone = (head + "/" if head else "") + base[len(WHITEOUT):]
        for p in [p for p in files if p == gone or p.startswith(gone + "/")]:
            del files[p]
        return
    if path in (PASSWD, GROUP):
        extracted = tar.extractfile(member) if member.isfile() else None
        files[path] = extracted.read() if extracted else None
    elif any(path.startswith(r + "/") for r in roots) and not member.isdir():
        files[path] = None


def _passwd(text: bytes | None) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for line in (text or b"").decode("utf-8", "replace").splitlines():
        parts = line.split(":")
        if len(parts) >= 4 and parts[2].isdigit() and parts[3].isdigit():
            out.setdefault(parts[0], (int(parts[2]), int(parts[3])))
    return out


def _group(text: bytes | None) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in (text or b"").decode("utf-8", "replace").splitlines():
        parts = line.split(":")
        if len(parts) >= 3 and parts[2].isdigit():
            out.setdefault(parts[0], int(parts[2]))
    return out
