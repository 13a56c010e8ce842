"""What a Pod Security Standards check is, and the read-only view of a pod it judges.

A check has an upstream ID (`privileged`, `runAsNonRoot`, ...), a level and one or more versions. Each version
applies from a policy version (`since`) until the next one; a policy version older than every version of a check
means the check does not exist yet. A restricted check may *override* baseline checks (upstream's
`OverrideCheckIDs`): at the restricted level the overridden baseline check is not run, because the restricted one
says the same thing more strictly (e.g. `capabilities_restricted` replaces `capabilities_baseline`).

A check function reads a `PodView` and returns `Violation`s: one per offending field (or per place where a
required field is missing), each with its path relative to the object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from kharden.errors import UsageError
from kharden.find.podspecs import PodTarget, get
from kharden.model import Path, cached_property

Version = tuple[int, int]

LEVELS = ("baseline", "restricted")
LATEST = "1.37"
LATEST_VERSION: Version = (1, 37)

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)$")


def parse_version(version: str) -> Version:
    """`latest`, `1.25` or `v1.25` -> (1, 25). Versions newer than the newest policy are judged as the newest,
    as the admission controller does."""
    text = str(version).strip()
    if text == "latest":
        return LATEST_VERSION
    m = _VERSION_RE.match(text)
    if not m or int(m.group(1)) != 1:
        raise UsageError(f"unknown Pod Security Standards version {version!r}: use latest or 1.0 to {LATEST}")
    return min((1, int(m.group(2))), LATEST_VERSION)


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise UsageError(f"unknown Pod Security Standards level {level!r}: use one of {', '.join(LEVELS)}")
    return level


def mapping(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else an empty one: `securityContext: null` means unset."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def quote(names: list[str]) -> str:
    """Upstream's joinQuote: "a", "b"."""
    return ", ".join(f'"{n}"' for n in names)


@dataclass(frozen=True)
class Violation:
    """One offending field (or missing field) of one pod."""

    message: str
    path: Path  # relative to the object
    container: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Container:
    """One container of any list (init, regular, ephemeral), with where it sits in the object.

    Checks only read, so a container (and a PodView) keeps what most checks ask for (the security contexts, the
    containers) once worked out."""

    path: Path
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data.get("name", ""))

    @cached_property
    def sc(self) -> dict[str, Any]:
        return mapping(self.data.get("securityContext"))

    @property
    def sc_path(self) -> Path:
        return self.path + ("securityContext",)


@dataclass(frozen=True)
class PodView:
    """What a check may read of one pod spec: the spec, the pod's annotations and every container."""

    target: PodTarget

    @property
    def spec(self) -> dict[str, Any]:
        return self.target.spec

    @property
    def spec_path(self) -> Path:
        return self.target.spec_path

    @cached_property
    def sc(self) -> dict[str, Any]:
        return mapping(self.spec.get("securityContext"))

    @property
    def sc_path(self) -> Path:
        return self.spec_path + ("securityContext",)

    @property
    def annotations_path(self) -> Path:
        return self.target.meta_path + ("annotations",)

    @property
    def annotations(self) -> dict[str, Any]:
        """The pod's own annotations: for a workload, those of its template (the object's do not reach the pod)."""
        return mapping(get(self.target.obj.data, self.annotations_path))

    def containers(self) -> tuple[Container, ...]:
        """Init containers, containers, ephemeral containers: the admission controller visits all three."""
        return self._containers

    @cached_property
    def _containers(self) -> tuple[Container, ...]:
        return tuple(Container(path, c) for path, c in self.target.containers())

    @property
    def windows(self) -> bool:
        """PSA exempts Windows pods by `spec.os.name` only; other markers do not change what it admits."""
        return self.target.os_windows

    @property
    def user_namespace(self) -> bool:
        """`hostUsers: false`: the pod runs in its own user namespace (KEP-127)."""
        return self.spec.get("hostUsers") is False


CheckFn = Callable[[PodView], list[Violation]]


@dataclass(frozen=True)
class VersionedCheck:
    since: Version
    fn: CheckFn
    overrides: tuple[str, ...] = ()  # baseline check IDs this one replaces at the restricted level


@dataclass(frozen=True)
class Check:
    id: str
    level: str
    versions: tuple[VersionedCheck, ...]  # oldest first
    requires: str  # one line, in the words of the standard (docs/pss.md)

    def at(self, version: Version) -> VersionedCheck | None:
        """The version of this check in force at a policy version, or None if the check did not exist yet."""
        found = None
        for v in self.versions:
            if v.since <= version:
                found = v
        return found

    @property
    def since(self) -> str:
        major, minor = self.versions[0].since
        return f"{major}.{minor}"
