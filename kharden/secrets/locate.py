"""Where credentials are written as literals: `plaintext(objects, templates) -> [Hit]`.

Looked at: every container's env `value`s, `command` and `args` (`--password=x`, `--token x`, and `KEY=value` or
`key: value` inside a shell script), ConfigMap `data` (a value, and each `key = value` / `key: value` line of a
config file held in it), and the annotations of every object and pod template. Secrets themselves are not looked at:
that is where credentials belong. A hit keeps the value for the fix that moves it; nothing that renders a hit may
print it (`mask`).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, NamedTuple

from kharden.find.podspecs import PodTarget, find_pod_targets
from kharden.model import Path
from kharden.read import KObject
from kharden.secrets.detect import classify, kind_of_value

# `key = value`, `key: value`, `"key": "value"`, `--key=value` inside a longer text (a script, a config file).
_PAIR = re.compile(r"""(?P<key>[A-Za-z_][\w.\-]*)["']?[ \t]*(?:=|:)[ \t]*(?P<q>["']?)(?P<val>[^\s"',;&|}]+)(?P=q)""")
_FLAG = re.compile(r"^--?(?P<key>[A-Za-z][\w.\-]*)(?:=(?P<val>.*))?$", re.S)


class Hit(NamedTuple):
    """One literal credential: the object, the path of the scalar holding it, what it is and where, in words."""

    obj: KObject
    path: Path  # relative to the object
    kind: str
    where: str  # "env DB_PASSWORD of container app"
    key: str | None  # the env name, ConfigMap key or annotation the literal is stored under
    container: str | None
    value: str  # the whole scalar: never rendered

    @property
    def masked(self) -> str:
        return mask(self.value)


def mask(value: str) -> str:
    """What a report may show of a secret: nothing of it but its length."""
    return f"****** ({len(value)} characters)"


def plaintext(pods: list[tuple[KObject, list[PodTarget]]]) -> list[Hit]:
    """Every literal credential in the objects (each with its pod targets), in object order."""
    hits: list[Hit] = []
    for obj, targets in pods:
        if obj.ref.kind == "Secret":
            continue
        hits += _annotations(obj, ("metadata", "annotations"), "")
        if obj.ref.kind == "ConfigMap" and isinstance(data := obj.data.get("data"), dict):
            hits += _mapping(obj, ("data",), data, "ConfigMap key")
        for target in targets:
            if target.template:
                hits += _annotations(obj, target.meta_path + ("annotations",), "pod template ")
            for path, container in target.containers():
                hits += _container(obj, path, container)
    return hits


def _annotations(obj: KObject, path: Path, what: str) -> list[Hit]:
    value = _get(obj.data, path)
    return _mapping(obj, path, value, f"{what}annotation") if isinstance(value, dict) else []


def _mapping(obj: KObject, path: Path, data: dict[Any, Any], what: str) -> list[Hit]:
    out = []
    for key, value in data.items():
        if isinstance(value, str) and (kind := text_kind(str(key), value)):
            out.append(Hit(obj, path + (key,), kind, f"{what} {key}", str(key), None, value))
    return out


def _container(obj: KObject, path: Path, c: dict[str, Any]) -> Iterator[Hit]:
    name = str(c.get("name", "?"))
    env = c.get("env")
    for j, e in enumerate(env if isinstance(env, list) else []):
        if isinstance(e, dict) and isinstance(v := e.get("value"), str) and (kind := classify(str(e.get("name")), v)):
            yield Hit(obj, path + ("env", j, "value"), kind, f"env {e.get('name')} of container {name}",
                      str(e.get("name")), name, v)
    for field in ("command", "args"):
        items = c.get(field)
        if isinstance(items, list):
            for k, kind in _arguments(items):
                yield Hit(obj, path + (field, k), kind, f"{field}[{k}] of container {name}", None, name, items[k])


def _arguments(items: list[Any]) -> Iterator[tuple[int, str]]:
    """(index, kind) of each argument holding a credential: `--flag=value`, `--flag value`, or a script's pairs."""
    for k, item in enumerate(items):
        if not isinstance(item, str):
            continue
        flag = _FLAG.match(item)
        kind = None
        if flag and flag.group("val") is not None:
            kind = classify(flag.group("key"), flag.group("val"))
        elif k > 0 and isinstance(prev := items[k - 1], str) and (m := _FLAG.match(prev)) and m.group("val") is None:
            kind = classify(m.group("key"), item)
        if kind is None and not flag:
            kind = text_kind(None, item)
        if kind:
            yield k, kind


def text_kind(key: str | None, text: str) -> str | None:
    """The kind of credential in a value that may be a whole file or script: the value itself, then its pairs."""
    kind = classify(key, text) if "\n" not in text.strip() else kind_of_value(text)
    if kind or ("=" not in text and ":" not in text):
        return kind
    for m in _PAIR.finditer(text):
        if kind := classify(m.group("key"), m.group("val")):
            return kind
    return None


def _get(data: Any, path: Path) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def plaintext_in(objects: list[KObject], templates: dict[tuple[str, str], Path] | None = None) -> list[Hit]:
    """`plaintext` of objects whose pod targets are not found yet."""
    return plaintext([(obj, find_pod_targets(obj, templates)) for obj in objects])
