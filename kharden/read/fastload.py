"""Faster libyaml loading, same values: what the profile of `fix` and `check` showed to cost most in reading.

Three measured costs, each removed without changing a single value read:

- **The cyclic garbage collector.** Reading keeps every node tree alive (splicing needs them), so each automatic
  collection walks an ever larger heap: on 1,000 objects, reading took 1.0 s with the collector on and 0.38 s with
  it paused. A node tree has no garbage cycles to find while it is being built, so reading pauses the collector
  (`pause_gc` / `resume_gc`) and lets it run as usual afterwards. (Pausing it for a whole `fix` run as well
  saved about 6% more time but, with the garbage cycles of mutators and generators left uncollected, raised the
  peak memory of 10k objects from 593 MB to 1,062 MB; so only reading pauses it.)
- **The resolver.** libyaml's composer calls the pure-Python `Resolver.resolve` for every node, which runs regular
  expressions on every plain scalar. Without path resolvers (SafeLoader has none) a scalar's tag depends only on
  (value, implicit), so `Loader` remembers it: keys such as `name` or `image` resolve once.
- **The constructor.** `SafeConstructor` builds values through generators and deferred state. `Constructor`
  builds plain mappings, sequences and scalars directly from the composed nodes (anchors and cycles shared exactly
  as SafeConstructor shares them) and hands any document with anything else (merge keys, `!!set`, `!!omap`,
  custom tags, an error) to SafeConstructor unchanged, so unusual input behaves exactly as before.
"""

from __future__ import annotations

import gc
from typing import Any

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Scalar tags whose SafeConstructor functions return a value directly (the collection ones are generators).
_SCALARS = {
    tag: SafeConstructor.yaml_constructors[tag]
    for tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
                "tag:yaml.org,2002:float", "tag:yaml.org,2002:binary", "tag:yaml.org,2002:timestamp")
}
_CACHE_LIMIT = 100_000  # scalar tags remembered; bounds memory on huge, varied input


def pause_gc() -> bool:
    """Pause automatic garbage collection; returns whether it was on (pass that to `resume_gc`)."""
    was_on = gc.isenabled()
    gc.disable()
    return was_on


def resume_gc(was_on: bool) -> None:
    if was_on:
        gc.enable()


class _Fallback(Exception):
    """Something the direct construction does not handle: SafeConstructor builds the document instead."""


def construct_document(c: SafeConstructor, node: Node) -> Any:
    """SafeConstructor's value of a document: built directly, or by SafeConstructor itself when unusual."""
    try:
        return _build(node, {}, c)
    except RecursionError:
        raise
    except Exception:  # _Fallback, or an error SafeConstructor reports in its own way and order
        return SafeConstructor.construct_document(c, node)


class Constructor(SafeConstructor):
    """SafeConstructor's values, built directly for documents of plain mappings, sequences and scalars."""

    construct_document = construct_document


def _build(node: Node, memo: dict[int, Any], c: SafeConstructor) -> Any:
    cls = node.__class__
    if cls is ScalarNode:
        if node.tag == _STR:
            return node.value
        fn = _SCALARS.get(node.tag)
        if fn is None:
            raise _Fallback
        return fn(c, node)
    done = memo.get(id(node))
    if done is not None:  # an alias: the very same object, as SafeConstructor gives it
        return done
    if cls is MappingNode and node.tag == _MAP:
        mapping: dict[Any, Any] = {}
        memo[id(node)] = mapping
        for k, v in node.value:
            if k.__class__ is not ScalarNode:
                raise _Fallback  # complex keys, and SafeConstructor's "unhashable key" error
            if k.tag == _STR:
                key = k.value
            elif k.tag in _SCALARS:
                key = _SCALARS[k.tag](c, k)
            else:
                raise _Fallback  # merge keys `<<`, `=` value keys, custom tags
            mapping[key] = _build(v, memo, c)
        return mapping
    if cls is SequenceNode and node.tag == _SEQ:
        items: list[Any] = []
        memo[id(node)] = items
        items.extend([_build(v, memo, c) for v in node.value])
        return items
    raise _Fallback


# (value, implicit) -> tag of a plain or quoted scalar. Shared by all loaders: verifying re-reads one document at
# a time, and a per-stream table would start empty for each. Tags depend on the implicit resolvers of the class,
# which kharden never changes; the table is bounded and starts over when full.
_TAGS: dict[tuple[Any, Any], str] = {}


class Loader(_BaseLoader):
    """libyaml's safe loader with the tag of each scalar (value, implicit) resolved once."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)  # type: ignore[no-any-return, no-untyped-call]
        tag = _TAGS.get((value, implicit))
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
            if len(_TAGS) >= _CACHE_LIMIT:
                _TAGS.clear()
            _TAGS[(value, implicit)] = tag
        return tag

    # Path resolvers are what makes the tag depend on more than (kind, value, implicit); SafeLoader has none,
    # and with none these two only look at that empty table, once per node.
    if not _BaseLoader.yaml_path_resolvers:

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

    construct_document = construct_document  # stream mode: yaml.load_all(text, Loader=Loader)

