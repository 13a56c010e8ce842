"""Evaluate kharden's generated admission-policy CEL with a real CEL implementation (cel-expr-python, cel-cpp),
and apply an ApplyConfiguration the way server-side apply merges it (for the tests of admission policies)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

cel = pytest.importorskip("cel_expr_python.cel", reason="the CEL proofs need cel-expr-python (cel-cpp)")
from cel_expr_python.ext import ext_optional, ext_strings  # noqa: E402

_ENV = None
_COMPILED: dict[str, Any] = {}

# server-side apply list keys of core/v1 PodSpec lists (listType=map); every other list is atomic.
LIST_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
             "volumeMounts": "mountPath", "ports": "containerPort"}


def env() -> Any:
    global _ENV
    if _ENV is None:
        _ENV = cel.NewEnv(variables={"object": cel.Type.DYN, "variables": cel.Type.DYN, "request": cel.Type.DYN},
                          extensions=[ext_optional.ExtOptional(), ext_strings.ExtStrings()])
    return _ENV


def evaluate(expression: str, obj: Any, variables: dict[str, Any] | None = None, request: Any = None) -> Any:
    if expression not in _COMPILED:
        _COMPILED[expression] = env().compile(expression)
    data = {"object": obj, "variables": variables or {}, "request": request or {}}
    value = _COMPILED[expression].eval(data=data)
    if value.type() == cel.Type.ERROR:
        raise ValueError(f"CEL error: {value.plain_value()} in {expression[:200]}")
    return value.plain_value()


def variables_of(spec_variables: list[dict[str, str]], obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for v in spec_variables:
        out[v["name"]] = evaluate(v["expression"], obj, out)
    return out


def apply(target: Any, patch: Any, key: str | None = None) -> Any:
    """Server-side apply's merge of `patch` into `target` (maps merged, keyed lists merged by key, others set)."""
    if isinstance(patch, dict) and isinstance(target, dict):
        out = copy.deepcopy(target)
        for k, v in patch.items():
            out[k] = apply(target[k], v, k) if k in target else copy.deepcopy(v)
        return out
    if isinstance(patch, list) and isinstance(target, list) and key in LIST_KEYS:
        field = LIST_KEYS[key]
        out = copy.deepcopy(target)
        for item in patch:
            match = next((i for i, t in enumerate(out) if t.get(field) == item.get(field)), None)
            if match is None:
                out.append(copy.deepcopy(item))
            else:
                out[match] = apply(out[match], item)
        return out
    return copy.deepcopy(patch)
