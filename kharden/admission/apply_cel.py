"""A small tree for CEL ApplyConfiguration expressions, rendered two ways from the same tree:

    typed  `Object.spec{containers: [...], ?automountServiceAccountToken: ...}`  what the API server evaluates
           (MutatingAdmissionPolicy: object construction named by the field path from the root, `Object`)
    maps   `{'spec': {'containers': [...], ?'automountServiceAccountToken': ...}}`  the same values as CEL maps,
           which any CEL implementation evaluates without the API server's schema-derived types (the tests do,
           with cel-expr-python)

Fields are `Set` (always written) or `IfAbsent` (written as an optional field initializer `?f: cond ?
optional.of(v) : optional.none()`, so a value already present is never overwritten). `Each` maps a list to one
apply entry per element (`containers` merge by name in server-side apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

Value = Union[str, "Obj", "Each", "Tmpl"]


@dataclass(frozen=True)
class Set:
    value: Value


@dataclass(frozen=True)
class IfAbsent:
    present: str  # CEL: true when the field is already there (then nothing is written)
    value: Value


@dataclass(frozen=True)
class Obj:
    type_path: tuple[str, ...] | None  # field path from the root (("spec", "template", "spec")); None: a map field
    fields: tuple[tuple[str, Set | IfAbsent], ...]


@dataclass(frozen=True)
class Tmpl:
    """CEL text with values rendered into it: `Tmpl("[{0}]", obj)`."""

    text: str
    values: tuple[Value, ...]


@dataclass(frozen=True)
class Each:
    items: str  # CEL list
    var: str
    element: Obj


def render(value: Value, typed: bool) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Each):
        return f"{value.items}.map({value.var}, {render(value.element, typed)})"
    if isinstance(value, Tmpl):
        return value.text.format(*(render(v, typed) for v in value.values))
    parts = []
    for name, field in value.fields:
        key = name if typed and value.type_path is not None else f"'{name}'"
        inner = render(field.value, typed)
        if isinstance(field, IfAbsent):
            parts.append(f"?{key}: ({field.present}) ? optional.none() : optional.of({inner})")
        else:
            parts.append(f"{key}: {inner}")
    body = ", ".join(parts)
    if not typed or value.type_path is None:
        return f"{{{body}}}"
    return f"{'.'.join(('Object',) + value.type_path)}{{{body}}}"


def needs(value: Value, present: str | None = None) -> str:
    """CEL that is true when applying `value` would write anything: false on an object already hardened, so a
    matchCondition made of it makes a re-invocation (and a GitOps re-apply) a no-op."""
    own = f"!({present})" if present is not None else None
    if isinstance(value, Obj):
        inner = [needs(f.value, f.present if isinstance(f, IfAbsent) else None) for _, f in value.fields]
        inner = [i for i in inner if i != "false"]
        below = " || ".join(f"({i})" for i in inner) if inner else "false"
        return below if own is None else own
    if isinstance(value, Each):
        below = needs(value.element)
        each = "false" if below == "false" else f"{value.items}.exists({value.var}, {below})"
        return each if own is None else f"{own} && {each}" if each != "false" else "false"
    return own if own is not None else "false"
