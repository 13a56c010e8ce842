"""kharden's one writer of YAML values (generated objects, KRM output): libyaml's emitter, fed faster.

`yaml.dump_all(Dumper=CSafeDumper)` spends most of its time in Python, not in libyaml: `represent_data` walks each
value's type MRO and keeps alias bookkeeping for every string, and the C emitter calls the pure-Python
`Resolver.resolve` twice per scalar to decide on quotes. `Dumper` builds nodes for str, dict, list, bool, int and
None directly (SafeRepresenter's very nodes: tags, styles, flow style, anchors for shared dicts and lists), hands
other types to SafeRepresenter and remembers resolved tags; with kharden's settings only (no sorting, block style).

`safe_dump` is `yaml.safe_dump` with those settings (how `fix` writes generated objects), by libyaml's emitter
wherever it writes PyYAML's bytes; `block_text` writes small, alike objects (a ServiceAccount per workload) without
nodes or events at all. `dump_resource` writes the KRM ResourceList the same way, object by object.
"""

from __future__ import annotations

import datetime
import io
import re
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kharden.read.tagcache import TagCache, tag_of

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]  # no libyaml: the Python class

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"


class Dumper(TagCache, _BaseDumper):
    """CSafeDumper with plain values represented directly and scalar tags resolved once per process."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The direct path reproduces SafeRepresenter for these settings only.
        self._direct = self.default_style is None and self.default_flow_style is False and not self.sort_keys

    def represent_data(self, data: Any) -> Node:
        if not self._direct:
            return super().represent_data(data)
        t = type(data)
        if t is str:
            return ScalarNode(_STR, data)
        if t is dict or t is list:
            node = self.represented_objects.get(id(data))
            if node is not None:  # shared: SafeDumper gives it an anchor and aliases
                return node
            self.object_keeper.append(data)
            return self._mapping(data) if t is dict else self._sequence(data)
        if t is bool:
            return ScalarNode(_BOOL, "true" if data else "false")
        if t is int:
            return ScalarNode(_INT, str(data))
        if data is None:
            return ScalarNode(_NULL, "null")
        return super().represent_data(data)

    def _mapping(self, data: dict[Any, Any]) -> MappingNode:
        value: list[tuple[Node, Node]] = []
        node = MappingNode(_MAP, value, flow_style=False)
        self.represented_objects[id(data)] = node
        rep = self.represent_data
        for k, v in data.items():
            value.append((rep(k), rep(v)))
        return node

    def _sequence(self, data: list[Any]) -> SequenceNode:
        value: list[Node] = []
        node = SequenceNode(_SEQ, value, flow_style=False)
        self.represented_objects[id(data)] = node
        rep = self.represent_data
        value.extend([rep(v) for v in data])
        return node


_SETTINGS: dict[str, Any] = dict(sort_keys=False, default_flow_style=False, width=1 << 16)
_TEXT = re.compile(r"[ -~\n]*\Z")  # printable ASCII and line breaks: nothing either emitter escapes
_KEY = re.compile(r"[ -~]{1,100}\Z")  # a short one-line key, never empty
_MAX_TEXT = 10_000  # even with every quote doubled, lines stay far below the width: nothing is folded


def safe_dump(obj: Any) -> str:
    """`yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=1 << 16)`, byte for byte, faster.

    libyaml's emitter and PyYAML's differ on some strings: an empty key, a key with a carriage return or of more
    than about 120 characters, non-ASCII text long enough to be folded, lone surrogates. Where every value is a
    dict, list, str, int, bool or None, every string printable ASCII or line breaks and not near the line width,
    and every key such a string of one short line, they write the same bytes (fuzzed, and compared on every object
    the generators make from the test corpus: tests/test_fast_path.py). Anything else goes to PyYAML, as before.
    """
    text = block_text(obj)
    if text is not None:
        return text
    text = yaml.dump(obj, Dumper=Dumper, **_SETTINGS) if _plain(obj) else yaml.safe_dump(obj, **_SETTINGS)
    return str(text)  # no stream given: the text


def safe_dump_each(objs: list[Any]) -> list[str]:
    """`[safe_dump(o) for o in objs]`, the same texts: `block_text` where it can, one libyaml emitter for the rest."""
    texts = [block_text(o) for o in objs]
    rest = iter(_emitted_each([o for o, t in zip(objs, texts) if t is None]))
    return [t if t is not None else next(rest) for t in texts]


def _emitted_each(objs: list[Any]) -> list[str]:
    """`[safe_dump(o) for o in objs]` by one libyaml emitter for all of them.

    Making an emitter per object cost a third of dumping the objects the generators make. One emitter writes them
    as one stream of documents, each after its `---` (libyaml writes out a document when it ends, so each one's
    text is where the stream stood before and after it); anything but plain values goes to `safe_dump` as before.
    """
    if not objs:
        return []
    if not all(_plain(o) for o in objs):
        return [safe_dump(o) for o in objs]
    buf = io.StringIO()
    dumper = Dumper(buf, explicit_start=True, **_SETTINGS)
    ends = [0]
    try:
        dumper.open()
        for o in objs:
            dumper.represent(o)
            ends.append(buf.tell())
        dumper.close()
    finally:
        dumper.dispose()
    text = buf.getvalue()
    docs = [text[a:b] for a, b in zip(ends, ends[1:])]
    if len(text) != ends[-1] or not all(d.startswith("---\n") for d in docs):  # not as described above: one by one
        return [safe_dump(o) for o in objs]
    return [d[4:] for d in docs]


def _plain(value: Any) -> bool:
    t = type(value)
    if t is str:
        return len(value) <= _MAX_TEXT and _TEXT.match(value) is not None
    if t is dict:
        return all(type(k) is str and _KEY.match(k) and _plain(v) for k, v in value.items())
    if t is list:
        return all(_plain(v) for v in value)
    return t is bool or t is int or value is None


class ResourceDumper(Dumper):
    """`Dumper` with timestamps as RFC 3339 (`2018-10-27T06:36:27Z`): the API server parses it, not PyYAML's form."""


def _timestamp(dumper: ResourceDumper, value: datetime.datetime) -> Node:
    text = value.isoformat()
    if value.utcoffset() == datetime.timedelta(0):
        text = text.replace("+00:00", "Z")
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", text)


ResourceDumper.add_representer(datetime.datetime, _timestamp)


def dump_resource(value: dict[str, Any]) -> str:
    """A mapping (a KRM ResourceList) as one block document, as SafeDumper writes it, timestamps as RFC 3339. Lists
    of objects (`items`, `results`) go object by object through `safe_dump_each`, each indented under its `- `
    (PyYAML's pure-Python emitter took 42 of 44 s profiled on 2,000 objects; node building most of the rest)."""
    parts = []
    for key, v in value.items():
        if type(key) is str and _WORDS.match(key) and type(v) is list and v and all(type(o) is dict for o in v):
            parts.append(f"{_scalar(key)}:\n" + "".join(_item(t) for t in _resources_each(v)))
        else:
            parts.append(yaml.dump({key: v}, Dumper=ResourceDumper, **_SETTINGS))
    return "".join(parts) or "{}\n"


def _resources_each(objs: list[Any]) -> list[str]:
    """Each object's text: `safe_dump_each` for plain values, the ResourceDumper for the others (timestamps)."""
    plain = [_plain(o) for o in objs]
    texts = iter(safe_dump_each([o for o, p in zip(objs, plain) if p]))
    return [next(texts) if p else yaml.dump(o, Dumper=ResourceDumper, **_SETTINGS) for o, p in zip(objs, plain)]


def _item(text: str) -> str:
    """A block mapping's text as an item of a block sequence: `- ` before its first line, two spaces before every
    other line that is not empty (the relative indentation of every line, block scalars' included, is kept)."""
    lines = text.split("\n")  # the emitter writes every other line break escaped: "\n" ends each line
    return "- " + lines[0] + "\n" + "".join(("  " + line if line else line) + "\n" for line in lines[1:-1])


# -- writing block YAML without an emitter ---------------------------------------------------------------------
# A string that libyaml's emitter writes plain in block context, whatever its tag: printable ASCII words of safe
# characters between single spaces. None of its characters is an indicator anywhere (`-`, `.` and `@` only
# after the first), so no leading or trailing space, no line break, no `: `, ` #`, `---` or `...`.
_WORDS = re.compile(r"[A-Za-z0-9_/(][A-Za-z0-9_./()+=@-]*(?: [A-Za-z0-9_./()+=@-]+)*\Z")


class _Unsure(Exception):
    """`block_text` cannot be sure of the bytes: libyaml's emitter writes the object."""


def block_text(obj: Any) -> str | None:
    """`safe_dump(obj)`'s text, written directly, or None where it would not be sure to be the same bytes.

    For a non-empty mapping of the plain values `_plain` admits, in which no mapping or list appears twice (SafeDumper
    writes anchors for those) and every scalar is written on one line: a mapping's entries at its column (`key:
    value`; a nested mapping two columns in, a list's items at the key's column, `{}` and `[]` for empty ones), a
    list's items after `- ` (a mapping's first entry, or a nested list's first item, on the dash's line). A scalar is
    written as libyaml writes it in block context (`_scalar`): for one line, that does not depend on where it stands.
    The property tests compare it with yaml.safe_dump (tests/test_fast_path.py).
    """
    if type(obj) is not dict or not obj:
        return None
    out: list[str] = []
    try:
        _map(obj, "", "", out, set())
    except _Unsure:
        return None
    return "".join(out)


def _map(d: dict[Any, Any], first: str, pad: str, out: list[str], seen: set[int]) -> None:
    if id(d) in seen:
        raise _Unsure  # an alias
    seen.add(id(d))
    inner = pad + "  "
    for k, v in d.items():
        if type(k) is not str or _KEY.match(k) is None:
            raise _Unsure
        head = first + _scalar(k) + ":"
        first = pad
        t = type(v)
        if (t is dict or t is list) and v:
            out.append(head + "\n")
            if t is dict:
                _map(v, inner, inner, out, seen)
            else:
                _seq(v, pad, pad, out, seen)  # a mapping's list: its items at the key's column
        else:
            out.append(head + " " + _leaf(v, seen) + "\n")


def _seq(items: list[Any], first: str, pad: str, out: list[str], seen: set[int]) -> None:
    if id(items) in seen:
        raise _Unsure
    seen.add(id(items))
    inner = pad + "  "
    for v in items:
        dash = first + "- "
        first = pad
        t = type(v)
        if t is dict and v:
            _map(v, dash, inner, out, seen)
        elif t is list and v:
            _seq(v, dash, inner, out, seen)
        else:
            out.append(dash + _leaf(v, seen) + "\n")


def _leaf(v: Any, seen: set[int]) -> str:
    """A scalar, or an empty mapping or list (written in flow style)."""
    t = type(v)
    if t is str:
        return _scalar(v)
    if t is dict or t is list:
        if id(v) in seen:
            raise _Unsure
        seen.add(id(v))
        return "{}" if t is dict else "[]"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)  # plain: an int's text resolves to an int
    if v is None:
        return "null"
    raise _Unsure


def _scalar(s: str) -> str:
    if _WORDS.match(s) is not None:  # plain, unless plain it would read as another type: then quoted
        return s if tag_of(ScalarNode, s, (True, False)) == _STR else "'" + s + "'"
    text = _emitted_scalar(s) if len(s) <= _MAX_TEXT and _TEXT.match(s) is not None else None
    if text is None:
        raise _Unsure
    return text


@lru_cache(maxsize=4096)
def _emitted_scalar(s: str) -> str | None:
    """How libyaml's emitter writes this string as a list item; None if not on one line."""
    text: str = yaml.dump([s], Dumper=Dumper, **_SETTINGS)
    body = text[2:-1]
    return body if text.startswith("- ") and text.endswith("\n") and "\n" not in body else None
