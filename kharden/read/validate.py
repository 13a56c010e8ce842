"""Is the input something kharden can safely edit? Every problem as a one-line InputError with file, document,
line and column.

Two levels:
- parse errors: kharden.read.yamlerrors (the checks before construction are in kharden.read.limits);
- the objects (`validate_source`, `split_objects`): documents that are not mappings, objects without apiVersion or
  kind, duplicate keys (PyYAML keeps the last silently; the API server refuses them, and a fixer must not pick one
  for the user), and wrong types in the fields kharden reads or writes (a `containers` mapping,
  `securityContext: "x"`, `runAsNonRoot: "false"` that Python would call true). `null` is accepted wherever
  Kubernetes reads it as "unset". `check` reports the broken objects and still checks the others in the same file;
  `fix` refuses the file.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

import yaml

from kharden.errors import InputError
from kharden.kinds import BUILTIN_GROUPS, BUILTIN_TEMPLATES
from kharden.model import Path, dotted
from kharden.read.shapes import INT, INT_OR_STR, KIND_SHAPES, METADATA, POD_SPEC, POD_TEMPLATE, WORKLOAD_SPEC, Shape
from kharden.read.source import Document, KObject, Source
from kharden.read.yamlerrors import (  # noqa: F401  (re-exported: their old home)
    TEMPLATE_ADVICE, explain_yaml_error, not_utf8_error, reader_error, surrogate_error,
)

_MERGE = "tag:yaml.org,2002:merge"  # `<<`: not constructed itself, merged by SafeConstructor.flatten_mapping
_STR = "tag:yaml.org,2002:str"


# -- parse errors ------------------------------------------------------------------------------------------------
def _scalar_value(node: yaml.ScalarNode) -> Any:
    """The YAML 1.1 value of a non-string key: keys Python finds equal collapse into one entry of the dict."""
    try:
        return yaml.constructor.SafeConstructor().construct_object(node)
    except (yaml.YAMLError, ValueError):
        return node.value


Key = tuple[int, Optional[int]]  # (document index, item index or None)


def validate_source(source: Source, *, pod_templates: dict[tuple[str, str], Path] | None = None,
                    docs: range | None = None) -> list[InputError]:
    """Every shape problem of every document of `source` (or of `docs`), in document order."""
    return [err for _, err in _problems(source, pod_templates or {}, docs)]


def split_objects(
    source: Source, *, pod_templates: dict[tuple[str, str], Path] | None = None
) -> tuple[list[KObject], list[InputError]]:
    """(well-formed objects, problems): for `check`, which reports the broken objects and checks the rest."""
    problems = list(_problems(source, pod_templates or {}))
    broken = {key for key, _ in problems}
    good = [o for o in source.objects() if (o.ref.doc, o.ref.item) not in broken and (o.ref.doc, None) not in broken]
    return good, [err for _, err in problems]


def _problems(source: Source, templates: dict[tuple[str, str], Path],
              docs: range | None = None) -> Iterator[tuple[Key, InputError]]:
    for doc in source.docs if docs is None else (source.docs[i] for i in docs):
        data = doc.data
        if data is None:
            continue  # an empty document (a lone `---`, or only comments) is fine
        if not isinstance(data, dict):
            hint = TEMPLATE_ADVICE if isinstance(data, str) and "{{" in data else None
            msg = hint or f"document is {_kind_of(data)}, not a Kubernetes object (a mapping with apiVersion and kind)"
            yield (doc.index, None), _doc_error(doc, (), msg)
            continue
        items = data.get("items")
        if str(data.get("kind", "")).endswith("List") and "items" in data:
            for err in _object_problems(doc, (), data, templates, as_list=True):
                yield (doc.index, None), err
            for i, item in enumerate(items if isinstance(items, list) else []):
                for err in _object_problems(doc, ("items", i), item, templates):
                    yield (doc.index, i), err
        else:
            for err in _object_problems(doc, (), data, templates):
                yield (doc.index, None), err


def _object_problems(
    doc: Document, base: Path, obj: Any, templates: dict[tuple[str, str], Path], *, as_list: bool = False
) -> Iterator[InputError]:
    if not isinstance(obj, dict):
        yield _doc_error(doc, base, f"{dotted(base)} is {_kind_of(obj)}, not a Kubernetes object (a mapping)")
        return
    label = _label(obj)
    yield from _duplicate_keys(doc, base, label, skip_items=as_list)
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if value is None or value == "":
            yield _doc_error(doc, base, f"{label}: {field} is missing" if base == () else
                             f"{label}: {dotted(base)} has no {field}")
        elif not isinstance(value, str):
            yield _type_error(doc, base, label, (field,), value, "a string")
    kind = obj.get("kind")
    own = KIND_SHAPES.get(kind, {}) if isinstance(kind, str) else {}
    if _template_path(obj, templates):
        own = {"spec": WORKLOAD_SPEC}
    yield from _shape(doc, base, label, (), obj,
                      {"metadata": METADATA, "items": [None] if as_list else None, **own})
    yield from _templated_identity(doc, base, label, obj)
    template = _template_path(obj, templates)
    if template is not None:
        yield from _template_problems(doc, base, label, obj, template)


IDENTITY: tuple[Path, ...] = (("apiVersion",), ("kind",), ("metadata", "name"), ("metadata", "namespace"))


def _templated_identity(doc: Document, base: Path, label: str, obj: dict[str, Any]) -> Iterator[InputError]:
    """`{{` in a quoted name or kind: an unrendered chart (Kubernetes names cannot hold braces, so it is never data)."""
    meta = obj.get("metadata")
    for path in IDENTITY:
        value = obj.get(str(path[0])) if len(path) == 1 else meta.get(str(path[1])) if isinstance(meta, dict) else None
        if isinstance(value, str) and "{{" in value:
            yield _doc_error(doc, base + path, f"{label}: {dotted(path)}: {TEMPLATE_ADVICE}")


def _duplicate_keys(doc: Document, base: Path, label: str, *, skip_items: bool) -> Iterator[InputError]:
    """Every repeated key in the object at `base`, at the line of its second occurrence.

    Found on the node tree: the constructed dict has already kept the last value silently, while the text (where
    kharden splices its edits) has both. A List's `items` are objects of their own and judged one by one.
    Only documents in which reading saw a repeated key are searched.
    """
    if not doc.repeated_keys:
        return
    root = doc.node_at(base)
    seen: set[int] = set()
    stack = [root] if root is not None else []
    found = []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        if not isinstance(node, yaml.MappingNode):
            continue
        first: dict[Any, yaml.Node] = {}
        for key, value in node.value:
            if skip_items and node is root and isinstance(key, yaml.ScalarNode) and key.value == "items":
                continue
            stack.append(value)
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE:
                continue
            # Non-string keys by their YAML 1.1 value, as the dict they become sees them: `0x1F` is `31`, `on` is `1`.
            ident = key.value if key.tag == _STR else (_STR, _scalar_value(key))
            if ident in first:
                line = first[ident].start_mark.line + 1
                found.append(_node_error(doc, key, f"{label}: duplicate key {key.value!r} (first at line {line})"))
            first.setdefault(ident, key)
    yield from sorted(found, key=lambda e: (e.line or 0, e.column or 0))


def _group_kind(obj: dict[str, Any]) -> tuple[str, str]:
    kind, api = obj.get("kind"), obj.get("apiVersion")
    if not isinstance(kind, str) or not isinstance(api, str):
        return "", ""
    return (api.split("/")[0] if "/" in api else ""), kind


def _template_path(obj: dict[str, Any], templates: dict[tuple[str, str], Path]) -> Path | None:
    group, kind = _group_kind(obj)
    if kind in BUILTIN_TEMPLATES and group in BUILTIN_GROUPS:
        return BUILTIN_TEMPLATES[kind]
    return templates.get((group, kind))


def _template_problems(doc: Document, base: Path, label: str, obj: Any, template: Path) -> Iterator[InputError]:
    value = obj
    for n in range(len(template)):
        value = value.get(template[n])
        if value is None:
            return  # an absent (or null) template: nothing to harden, nothing to check
        if not isinstance(value, dict):
            yield _type_error(doc, base, label, template[: n + 1], value, "a mapping")
            return
    # A Pod is its own template: its metadata was checked with the object's.
    yield from _shape(doc, base, label, template, value, POD_TEMPLATE if template else {"spec": POD_SPEC})


def _shape(doc: Document, base: Path, label: str, path: Path, value: Any, shape: Shape) -> Iterator[InputError]:
    """Check `value` at `path` against `shape`; recursion follows the (small, fixed) shape tables only."""
    wrong: list[tuple[Path, Any, str]] = []
    _mismatches(path, value, shape, wrong)
    for at, bad, expected in wrong:
        yield _type_error(doc, base, label, at, bad, expected)


def _mismatches(path: Path, value: Any, shape: Shape, wrong: list[tuple[Path, Any, str]]) -> None:
    """(path, value, what was expected) of each value not of its shape, in document order (a plain recursion:
    generators nested as deep as the shape cost more than the check itself).

    Complexity: a mapping, a list or a leaf, with the common string leaf checked inline: it runs on every field.
    """
    if shape is None:
        return
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            wrong.append((path, value, "a mapping"))
            return
        for key, sub in shape.items():
            v = value.get(key)
            if v is None or sub is None:
                continue
            if sub is str:  # the most common leaf, checked here rather than in a call of its own
                if not isinstance(v, str):
                    wrong.append((path + (key,), v, "a string"))
                continue
            _mismatches(path + (key,), v, sub, wrong)
    elif isinstance(shape, list):
        if not isinstance(value, list):
            wrong.append((path, value, "a list"))
            return
        if shape[0] is None:
            return
        item_shape = shape[0]
        for i, item in enumerate(value):
            if item is None:
                wrong.append((path + (i,), item, _expected(item_shape)))
            elif item_shape is str:
                if not isinstance(item, str):
                    wrong.append((path + (i,), item, "a string"))
            else:
                _mismatches(path + (i,), item, item_shape, wrong)
    elif not isinstance(value, shape) or (isinstance(value, bool) and shape is INT):
        wrong.append((path, value, _expected(shape)))


def _expected(shape: Shape) -> str:
    if isinstance(shape, dict):
        return "a mapping"
    if isinstance(shape, list):
        return "a list"
    names: dict[Any, str] = {bool: "true or false", str: "a string", INT: "an integer",
                             INT_OR_STR: "an integer or a string"}
    return names.get(shape, "something else")


def _type_error(doc: Document, base: Path, label: str, path: Path, value: Any, expected: str) -> InputError:
    if isinstance(value, str) and "{{" in value and expected != "a string":
        return _doc_error(doc, base + path, f"{label}: {dotted(path)}: {TEMPLATE_ADVICE}")
    return _doc_error(doc, base + path, f"{label}: {dotted(path)} must be {expected}, not {_kind_of(value)}")


def _doc_error(doc: Document, path: Path, message: str) -> InputError:
    return _node_error(doc, doc.node_at(path), message)


def _node_error(doc: Document, node: yaml.Node | None, message: str) -> InputError:
    mark = node.start_mark if node is not None else None
    return InputError(
        message, file=doc.path, doc=doc.index,
        line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
    )


def _label(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    kind = obj.get("kind")
    return f"{kind if isinstance(kind, str) and kind else 'object'}/{name if isinstance(name, str) else '?'}"


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", dict: "a mapping",
             list: "a list", bytes: "binary data"}
    return names.get(type(value), f"a {type(value).__name__}")
