"""The records every part of kharden speaks in.

A `Change` is the one record of change: YAML output, unified diff, JSON patch, KRM results, SARIF and the text
report are all renderings of the same list of changes. A `Finding` is something reported but not (or not yet)
changed: a violation, a warning, an opt-out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, Literal, NamedTuple, TypeVar, Union, overload

Key = Union[str, int]
Path = tuple[Key, ...]

Op = Literal["add", "replace", "remove"]
Severity = Literal["error", "warning", "info"]  # how serious the check that made a finding thinks it is
Grade = Literal["violation", "would-fix", "note"]  # what it means to the user: every report speaks in these (grade())

GENERATED_FILE = "kharden-generated.yaml"  # where `fix -i/-o`, kpt (KRM) and Helm 4 put generated objects


T = TypeVar("T")


class cached_property(Generic[T]):  # noqa: N801 (named as the functools one it stands in for)
    """`functools.cached_property` without its lock: Python 3.11 takes an RLock on every first access (3.12 dropped
    it), and pod targets, pod views and containers are made by the thousand, each property read once or twice.
    Kept in the instance's `__dict__` like the functools one, so it works on frozen dataclasses too."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> cached_property[T]: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> T | cached_property[T]:
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.fn(obj)
        return value


def pointer(path: Path) -> str:
    """RFC 6901 JSON pointer for a path."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def dotted(path: Path) -> str:
    """Human form of a path: spec.containers[0].securityContext."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


@dataclass(frozen=True)
class ObjectRef:
    """Identity of one Kubernetes object in the input (a document, or an item of a `kind: List`)."""

    file: str
    doc: int  # 0-based document index in the file
    item: int | None  # index in a List's items, or None for a top-level object
    api_version: str
    kind: str
    name: str
    namespace: str | None

    @property
    def base(self) -> Path:
        """Path of the object inside its document."""
        return () if self.item is None else ("items", self.item)

    def label(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name}"


class Change(NamedTuple):
    """One edit of one object: an RFC 6902 operation with its reason.

    A named tuple rather than a frozen dataclass: a run makes one per edit (11,515 for the changed documents of the
    generated 1k corpus), and a frozen dataclass's __init__ sets each of its seven fields through
    object.__setattr__ (1.2 us against 0.3 us).
    """

    obj: ObjectRef
    op: Op
    path: Path  # relative to the object; list indexes are concrete (append = index len(list))
    old: Any  # value before (None for add)
    new: Any  # value after (None for remove)
    mutator: str
    reason: str

    def patch_op(self) -> dict[str, Any]:
        op: dict[str, Any] = {"op": self.op, "path": pointer(self.path)}
        if self.op != "remove":
            op["value"] = self.new
        return op


@dataclass(frozen=True)
class Finding:
    """A violation, warning or note about one object, with where it is.

    Reports speak in its `grade` (violation / would-fix / note), made from `severity` and `status`; `control` is
    the Pod Security Standards check id the problem breaks (`privileged`, `runAsNonRoot`, ...) when there is one.
    """

    obj: ObjectRef | None
    rule: str  # stable id, e.g. "pss.runAsNonRoot", "kharden.resources", "netpol.unresolved-host"
    severity: Severity
    message: str
    path: Path = ()
    line: int | None = None  # 1-based line in obj.file of the offending field (or the nearest existing parent)
    status: Literal["open", "fixable", "unfixed", "opted-out", "info"] = "open"
    reason: str = ""  # why it was not fixed / why it is opted out
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    control: str = ""  # the PSS check id (kharden.checks.pss), e.g. "capabilities_restricted"; "" for none

    @property
    def grade(self) -> Grade:
        """would-fix: `kharden fix` changes it (`check --profile`: the same decision fix makes); violation: the object
        breaks the profile (or the PSS level) and fix leaves it; note: information, not a failure (an opt-out
        honoured, a token kept because the workload uses the API, a check's warning). Exit codes and SARIF levels
        follow it (kharden.render.report.GRADES)."""
        if self.status == "fixable":
            return "would-fix"
        if self.severity == "error" and self.status not in ("opted-out", "info"):
            return "violation"
        return "note"
