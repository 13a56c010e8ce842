"""What an image's layers say that its config does not: the users in /etc/passwd, and what a VOLUME holds.

Read only when the config leaves a question (a named `USER`, or `VOLUME`s): the layers are applied bottom first
as a runtime would unpack them, with OCI whiteouts (`.wh.NAME` removes NAME; `.wh..wh..opq` empties the
directory below that layer), keeping only /etc/passwd, /etc/group and the paths under each VOLUME.

A layer is read as a stream (gzip or plain tar, one entry after the other): memory stays bounded whatever its
size (a 145 MB postgres layer is one of the small ones), and only /etc/passwd and /etc/group are read out of it.
`Limits` guard against a layer made to cost: entries, unpacked bytes and time per image, each with its message.
"""

from __future__ import annotations

import io
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from typing import IO, Iterable

from kharden.errors import KhardenError

PASSWD, GROUP = "etc/passwd", "etc/group"
WHITEOUT, OPAQUE = ".wh.", ".wh..wh..opq"
MAX_ACCOUNT_FILE = 1 << 20  # an /etc/passwd larger than this is not one kharden reads
CHUNK = 1 << 16


class LayerLimit(KhardenError):
    """An image's layers cost more to read than `Limits` allow: its facts are not learned (the defaults apply)."""


@dataclass(frozen=True)
class Limits:
    """What reading one image's layers may cost: far above real images (the largest official ones hold some
    100,000 files and a few GB), far below what would stall a run."""

    entries: int = 2_000_000
    unpacked: int = 16 << 30  # bytes of file content, all layers together
    compressed: int = 8 << 30  # bytes read from the registry, all layers together
    seconds: float = 300.0


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
        users = {str(k): (int(v[0]), int(v[1])) for k, v in dict(data.get("users") or {}).items()}  # type: ignore[call-overload]  # our own cache file
        return LayerFacts(users, dict(data.get("groups") or {}), dict(data.get("contents") or {}))  # type: ignore[call-overload]  # as above


class Scanner:
    """The layers of one image applied one after the other (`apply` each, bottom first), then `facts()`."""

    def __init__(self, volumes: Iterable[str], image: str = "the image", limits: Limits = Limits()) -> None:
        self.roots = [v.strip("/") for v in volumes if v.strip("/")]
        self.image = image
        self.limits = limits
        self.deadline = time.monotonic() + limits.seconds
        self.files: dict[str, bytes | None] = {}  # kept paths -> content (None: not read)
        self.entries = 0
        self.unpacked = 0
        self.compressed = 0

    def apply(self, stream: IO[bytes]) -> None:
        """Read one layer (gzip or plain tar) from `stream` to its end, entry by entry, never holding more than
        one file: the end too, so that the caller can verify the blob's digest."""
        counted = _Counted(stream, self)
        try:
            with tarfile.open(fileobj=counted, mode="r|*") as tar:  # type: ignore[call-overload]  # _Counted reads as a file does
                while (member := tar.next()) is not None:
                    tar.members.clear()  # stream mode keeps every entry read: memory would grow with the layer
                    self._count(member)
                    _apply(tar, member, self.files, self.roots)
        except (tarfile.TarError, EOFError, zlib.error) as e:
            raise KhardenError(f"a layer of {self.image} is not a readable tar ({e})") from None
        while counted.read(CHUNK):  # what follows the tar's end (padding): read, for the digest
            pass

    def _read(self, size: int) -> None:
        self.compressed += size
        if self.compressed > self.limits.compressed:
            raise LayerLimit(f"the layers of {self.image} are larger than {self.limits.compressed >> 30} GiB: "
                             "not read further")
        if time.monotonic() > self.deadline:
            raise LayerLimit(f"reading the layers of {self.image} took more than {self.limits.seconds:.0f} s: "
                             "stopped")

    def _count(self, member: tarfile.TarInfo) -> None:
        self.entries += 1
        self.unpacked += max(member.size, 0)
        if self.entries > self.limits.entries:
            raise LayerLimit(f"the layers of {self.image} hold more than {self.limits.entries:,} entries: not read "
                             "further")
        if self.unpacked > self.limits.unpacked:
            raise LayerLimit(f"the layers of {self.image} unpack to more than {self.limits.unpacked >> 30} GiB: "
                             "not read further")

    def facts(self) -> LayerFacts:
        users, groups = _passwd(self.files.get(PASSWD)), _group(self.files.get(GROUP))
        contents = {"/" + r: sorted("/" + p for p in self.files if p.startswith(r + "/")) for r in self.roots}
        return LayerFacts(users, groups, contents)


class _Counted:
    """A layer's stream whose reads count against the scanner's limits (bytes read and time)."""

    def __init__(self, stream: IO[bytes], scanner: Scanner) -> None:
        self.stream = stream
        self.scanner = scanner

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.stream.read(size if size is not None and size >= 0 else CHUNK)
        self.scanner._read(len(chunk))
        return chunk


def scan(layers: Iterable[bytes], volumes: Iterable[str]) -> LayerFacts:
    """Apply the layers (compressed or not tars, bottom first, in memory) and read what kharden needs."""
    scanner = Scanner(volumes)
    for blob in layers:
        scanner.apply(io.BytesIO(blob))
    return scanner.facts()


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
        extracted = tar.extractfile(member) if member.isfile() and member.size <= MAX_ACCOUNT_FILE else None
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
