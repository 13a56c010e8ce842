"""Faster libyaml loading, same values: what the profile of `fix` and `check` showed to cost most in reading.

Two measured costs, each removed without changing a single value read (the third, the cyclic collector walking
the growing parsed heap, is the CLI's to tune: kharden.gcpause):

- **The resolver.** libyaml's composer calls the pure-Python `Resolver.resolve` for every node, which runs regular
  expressions on every plain scalar; `Loader` resolves each scalar's tag once per process (kharden.read.tagcache).
- **The constructor.** `SafeConstructor` builds values through generators and deferred state. `Constructor`
  builds plain mappings, sequences and scalars directly from the composed nodes (anchors and cycles shared exactly
  as SafeConstructor shares them) and hands any document with anything else (merge keys, `!!set`, `!!omap`,
  custom tags, an error) to SafeConstructor unchanged, so unusual input behaves exactly as before.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kharden.errors import InputError
from kharden.read import limits, merge
from kharden.read.limits import MAX_DEPTH, MAX_SCALAR_CHARS
from kharden.read.tagcache import LoaderTags

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]  # no libyaml: the Python class

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Scalar tags whose SafeConstructor functions return a value directly (the collection ones are generators).
_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp")
}


_PLAIN = SafeConstructor()


@lru_cache(maxsize=4096)
def _plain_scalar(tag: str, text: str) -> Any:
    """The value of a null, bool, int or float scalar (or a timestamp, for kharden.read.subset), which depends on its
    text alone (and is immutable, so one object serves every node with that text: ports, replicas and booleans
    repeat throughout a stream)."""
    return _SCALARS[tag](_PLAIN, ScalarNode(tag, text))


_CACHED = _SCALARS.keys() - {"tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp"}  # those two are rare


class _Fallback(Exception):
    """Something the direct construction does not handle: SafeConstructor builds the document instead."""


class StreamFacts(NamedTuple):
    """What a stream's text tells before a value is built: whether it can hold an anchor (it has a `&`), and
    whether it is too short for any scalar to pass MAX_SCALAR_CHARS (a scalar's value is never longer than its
    text: escapes, folding and indentation only take characters away). Worked out once per stream (`stream_facts`)."""

    anchors: bool = True
    short: bool = False


def stream_facts(text: str) -> StreamFacts:
    return StreamFacts("&" in text, len(text) <= MAX_SCALAR_CHARS)


class _Doc:
    """One document's construction: where errors point, what was built (aliases share it), what was seen."""

    __slots__ = ("c", "path", "index", "memo", "short", "aliased", "repeated_keys")

    def __init__(self, c: SafeConstructor, path: str, index: int, facts: StreamFacts) -> None:
        self.c, self.path, self.index = c, path, index
        # what was built, by node: an alias is the very node of its anchor. None where the text has no `&`: no
        # anchor, so no node is met twice, and no collection is remembered (two dict calls saved on each)
        self.memo: dict[int, Any] | None = {} if facts.anchors else None
        self.short = facts.short  # no scalar can be too long: their lengths need no look
        self.aliased = False  # a collection met twice: the alias checks of kharden.read.limits must run
        self.repeated_keys = False  # a mapping built with fewer keys than it has in the text


def read_document(c: SafeConstructor, node: Node, path: str = "-", index: int = 0,
                  facts: StreamFacts = StreamFacts()) -> tuple[Any, bool]:
    """(value, whether a mapping may repeat a key) of one composed document, with the reader's limits applied.

    The limits of kharden.read.limits (huge scalars, deep nesting, unsafe tags, alias bombs and cycles) are checked
    in the same pass that builds the values, not in a walk of their own: a document of plain values is checked as
    it is built (tags outside plain YAML cannot be built directly at all), one that uses aliases gets the full
    alias checks after it is built (building shares aliased values, so even an alias bomb builds in a moment), and
    anything unusual is checked by `limits.check_nodes` before SafeConstructor builds it. A duplicate key leaves a
    mapping shorter than its node: reported as a flag, so duplicate keys are searched for (kharden.read.validate)
    only in the documents that have them.
    """
    d = _Doc(c, path, index, facts)
    try:
        value = _build(node, d, 1)
    except (RecursionError, InputError):
        raise
    except Exception:  # _Fallback, or an error SafeConstructor reports in its own way and order
        limits.check_nodes(node, path, index)
        if merge.has_merge_key(node):  # SafeConstructor would rewrite the node tree kharden splices into
            return merge.construct(c, node), True
        return SafeConstructor.construct_document(c, node), True
    if d.aliased:
        limits.check_nodes(node, path, index)
    return value, d.repeated_keys


def construct_document(c: SafeConstructor, node: Node, facts: StreamFacts = StreamFacts()) -> Any:
    """SafeConstructor's value of a document: built directly, or by SafeConstructor itself when unusual."""
    return read_document(c, node, facts=facts)[0]


class Constructor(SafeConstructor):
    """SafeConstructor's values, built directly for documents of plain mappings, sequences and scalars."""

    construct_document = construct_document
    read_document = read_document


def _build(node: Node, d: _Doc, depth: int) -> Any:
    cls = node.__class__
    if cls is ScalarNode:
        return _scalar(node, d)
    memo, short = d.memo, d.short
    if memo is not None and (done := memo.get(id(node))) is not None:  # an alias: the very same object, as
        d.aliased = True                                                # SafeConstructor gives it
        return done
    if depth > MAX_DEPTH:
        raise limits.depth_error(node, d.path, d.index)
    if cls is MappingNode and node.tag == _MAP:
        mapping: dict[Any, Any] = {}
        if memo is not None:
            memo[id(node)] = mapping
        for k, v in node.value:
            if k.__class__ is not ScalarNode:
                raise _Fallback  # complex keys, and SafeConstructor's "unhashable key" error
            # a plain string without a call, as for values below; merge keys `<<`, `=` and custom tags fall back
            key = k.value if k.tag == _STR and (short or len(k.value) <= MAX_SCALAR_CHARS) else _scalar(k, d)
            if v.__class__ is ScalarNode and v.tag == _STR and (short or len(v.value) <= MAX_SCALAR_CHARS):
                mapping[key] = v.value  # the most common value, a string: no call for it
            else:
                mapping[key] = _build(v, d, depth + 1)
        if len(mapping) != len(node.value):
            d.repeated_keys = True
        return mapping
    if cls is SequenceNode and node.tag == _SEQ:
        items: list[Any] = []
        if memo is not None:
            memo[id(node)] = items
        items.extend([v.value if v.__class__ is ScalarNode and v.tag == _STR
                      and (short or len(v.value) <= MAX_SCALAR_CHARS) else _build(v, d, depth + 1)
                      for v in node.value])
        return items
    raise _Fallback


def _scalar(node: Node, d: _Doc) -> Any:
    """A scalar's value (a mapping key's too), or _Fallback for a tag that is not plain YAML."""
    if len(node.value) > MAX_SCALAR_CHARS:
        raise limits.scalar_error(node, d.path, d.index)
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag in _CACHED:
        return _plain_scalar(tag, node.value)
    fn = _SCALARS.get(tag)
    if fn is None:
        raise _Fallback
    return fn(d.c, node)


class Loader(LoaderTags, _BaseLoader):
    """libyaml's safe loader with the tag of each scalar (value, implicit) resolved once per process."""

    construct_document = construct_document  # stream mode: yaml.load_all(text, Loader=Loader)

