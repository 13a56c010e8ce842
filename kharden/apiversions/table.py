"""The deprecated-API table, loaded and validated once: which (apiVersion, kind) is deprecated or removed when.

    >>> row = lookup("extensions/v1beta1", "Deployment")
    >>> row.to, row.removed, row.status(parse_version("1.36"))
    ('apps/v1', (1, 16), 'removed')
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from kharden.errors import UsageError

Version = tuple[int, int]
GUIDE = "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"
NEWEST: Version = (1, 36)  # the newest release the table was checked against: the default target
MIGRATIONS = ("rename", "workload", "ingress", "hpa", "pdb", "none")
_KEYS = {"kind", "from", "to", "deprecated", "removed", "migrate", "note", "source", "available"}


@dataclass(frozen=True)
class Row:
    kind: str
    old: str  # the deprecated apiVersion
    to: str | None  # its replacement, None when there is none
    deprecated: Version
    removed: Version | None
    migrate: str
    note: str
    source: str
    available: Version  # the release that serves `to`

    def migrates_at(self, target: Version) -> bool:
        """Whether kharden moves a manifest of this row at the target: deprecated or removed there, mechanical, and
        the replacement served there."""
        return self.migrate != "none" and self.status(target) is not None and target >= self.available

    def status(self, target: Version) -> str | None:
        """"removed", "deprecated" or None (still fine) at the target release."""
        if self.removed is not None and target >= self.removed:
            return "removed"
        return "deprecated" if target >= self.deprecated else None


def parse_version(text: str) -> Version:
    """`1.25` (or `v1.25`, `1.25.3`) -> (1, 25); anything else is a usage error naming the form."""
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", text.strip())
    if m is None:
        raise UsageError(f"--kube-version {text!r}: expected a Kubernetes release like 1.30")
    return int(m.group(1)), int(m.group(2))


def show(v: Version) -> str:
    return f"{v[0]}.{v[1]}"


@functools.lru_cache(maxsize=1)
def rows() -> dict[tuple[str, str], Row]:
    """(apiVersion, kind) -> Row, from the package's table.yaml."""
    raw = yaml.load(resources.files("kharden.apiversions").joinpath("table.yaml").read_text(encoding="utf-8"),
                    Loader=yaml.CSafeLoader)  # package data: libyaml reads it 10x faster
    out: dict[tuple[str, str], Row] = {}
    for i, entry in enumerate(raw):
        row = _row(entry, i)
        if (row.old, row.kind) in out:
            raise ValueError(f"table.yaml row {i}: {row.kind} {row.old} listed twice")
        out[(row.old, row.kind)] = row
    return out


def _row(entry: Any, i: int) -> Row:
    if not isinstance(entry, dict) or not {"kind", "from", "to", "deprecated", "removed", "migrate"} <= set(entry):
        raise ValueError(f"table.yaml row {i}: needs kind, from, to, deprecated, removed, migrate")
    if set(entry) - _KEYS or entry["migrate"] not in MIGRATIONS:
        raise ValueError(f"table.yaml row {i}: unknown key or migration ({sorted(entry)})")
    if entry["migrate"] != "none" and not entry["to"]:
        raise ValueError(f"table.yaml row {i}: a migration needs a replacement")
    return Row(
        kind=str(entry["kind"]),
        old=str(entry["from"]),
        to=str(entry["to"]) if entry["to"] else None,
        deprecated=parse_version(str(entry["deprecated"])),
        removed=parse_version(str(entry["removed"])) if entry["removed"] else None,
        migrate=str(entry["migrate"]),
        note=str(entry.get("note", "")),
        source=str(entry.get("source") or f"{GUIDE} (v{entry['removed']})"),
        available=parse_version(str(entry.get("available") or entry["deprecated"])),
    )


def lookup(api_version: Any, kind: Any) -> Row | None:
    return rows().get((str(api_version), str(kind)))


def target_of(text: str | None) -> Version:
    """The target release: `--kube-version`/the profile's `kubeVersion`, or the newest the table knows."""
    return parse_version(text) if text else NEWEST
