"""What a mutator is, and the one way it edits an object.

A mutator is one small module with:
  ID        the name used in profiles, opt-out annotations and reports (camelCase, e.g. "readOnlyRootFilesystem")
  SCOPE     "pod" (called once per pod spec) or "object" (called once per object, e.g. Namespace labels)
  Options   its options: a frozen dataclass (kharden/options.py); a profile may set only these keys, with these types
  apply(target, opts, edit)   pure: reads the target, edits only through `edit`

The Editor mutates the live object *and* records a Change for every edit, so the record of change can never
disagree with the result. Its verbs encode the house rules: `ensure` adds what is absent and never touches a
present value; `replace` exists for values a profile chose to enforce; every edit carries a reason.
"""

from __future__ import annotations

import copy
from typing import AbstractSet, Any, Protocol, Union

from kharden.errors import InputError
from kharden.find.podspecs import PodTarget, get
from kharden.model import Change, Path, dotted
from kharden.options import ProfileOptions
from kharden.read import KObject

Target = Union[PodTarget, KObject]


class Mutator(Protocol):
    ID: str
    SCOPE: str
    Options: type[ProfileOptions]

    def apply(self, target: Any, opts: Any, edit: Editor) -> None: ...


_MISSING = object()


class Editor:
    """Edits one object on behalf of one mutator, recording each edit as a Change."""

    def __init__(self, obj: KObject, mutator: str, changes: list[Change],
                 skip: AbstractSet[Path] = frozenset(), know: Any = None) -> None:
        self.obj = obj
        self.mutator = mutator
        self.changes = changes
        self.skip = skip  # container paths opted out of this mutator
        # What the whole input tells (`kharden.know.Knowledge`), for a mutator whose decision depends on other
        # objects (a binding keeps a pod's token); None where nothing was learned.
        self.know = know

    # -- reading ---------------------------------------------------------------------------------------------
    def get(self, path: Path, default: Any = None) -> Any:
        return get(self.obj.data, path, default)

    def has(self, path: Path) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    def skipped(self, container_path: Path) -> bool:
        return container_path in self.skip

    # -- writing ---------------------------------------------------------------------------------------------
    def ensure(self, path: Path, value: Any, reason: str) -> bool:
        """Set path to value if it is absent (or null); create missing parent mappings. True if it changed."""
        parent: Any = self.obj.data
        for i, key in enumerate(path):
            if not (parent.__class__ is dict and key.__class__ is str):  # the common step needs no checks
                if isinstance(key, int):  # an index along the way: the item must exist
                    if not isinstance(parent, list) or not 0 <= key < len(parent):
                        self._type_error(path[:i], parent, "a list")
                    parent = parent[key]
                    continue
                if not isinstance(parent, dict):
                    self._type_error(path[:i], parent, "a mapping")
            current = parent.get(key)
            if current is None:
                new = _nest(path[i + 1 :], value)
                op = "replace" if key in parent else "add"
                parent[key] = new
                self._record(op, path[: i + 1], None, _copy(new), reason)
                return True
            parent = current
        return False

    def replace(self, path: Path, value: Any, reason: str) -> None:
        """Overwrite an existing value (a profile's decision to enforce). No-op if it already equals value."""
        parent = self.get(path[:-1])
        key = path[-1]
        old = parent[key]
        if old == value:
            return
        parent[key] = value
        self._record("replace", path, copy.deepcopy(old), copy.deepcopy(value), reason)

    def remove(self, path: Path, reason: str) -> None:
        parent = self.get(path[:-1])
        key = path[-1]
        old = parent[key]
        del parent[key]
        self._record("remove", path, copy.deepcopy(old), None, reason)

    def append(self, list_path: Path, value: Any, reason: str) -> None:
        """Append to a list, creating it if absent."""
        current = self.get(list_path)
        if current is None:
            self.ensure(list_path, [value], reason)
            return
        if not isinstance(current, list):
            self._type_error(list_path, current, "a list")
        current.append(value)
        self._record("add", list_path + (len(current) - 1,), None, _copy(value), reason)

    def _record(self, op: str, path: Path, old: Any, new: Any, reason: str) -> None:
        self.changes.append(Change(self.obj.ref, op, path, old, new, self.mutator, reason))  # type: ignore[arg-type]

    def _type_error(self, path: Path, value: Any, expected: str) -> None:
        raise InputError(
            f"{self.obj.ref.label()}: {dotted(path)} must be {expected}, not {type(value).__name__}",
            file=self.obj.ref.file,
            doc=self.obj.ref.doc,
            line=self.obj.line(path),
        )


def _nest(path: Path, value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


_SCALARS = (str, int, float, bool, type(None))


def _copy(value: Any) -> Any:
    """`copy.deepcopy` of a value an edit adds (mappings, lists and scalars a mutator built), without its memo and
    dispatch: an edit's record must not share the mappings later edits add to. Anything else goes to deepcopy."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value if isinstance(value, _SCALARS) else copy.deepcopy(value)
