"""Scalar tags resolved once per process, for libyaml's loader and dumper alike.

libyaml's composer (reading) and emitter (writing) call the pure-Python `Resolver.resolve` for every scalar, which
runs regular expressions on it: that was among the largest costs of reading and of stream mode's dump. Without path
resolvers (the safe loader and dumper have none) a scalar's tag depends only on (value, implicit), so `TagCache`
remembers it: keys such as `name` or `image` resolve once per process, however many files are read or dumped. The
tags depend only on the resolver's implicit table, which kharden never changes; the table is bounded and starts
over when full.
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

CACHE_LIMIT = 100_000  # scalar tags remembered; bounds memory on huge, varied input
_TAGS: dict[tuple[Any, Any], str] = {}
_COLLECTIONS: dict[Any, str] = {} if Resolver.yaml_path_resolvers else {
    MappingNode: Resolver.DEFAULT_MAPPING_TAG, SequenceNode: Resolver.DEFAULT_SEQUENCE_TAG}


class TagCache:
    """Mixin before a libyaml Loader or Dumper class: `resolve` through the process's table of scalar tags."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            tag = _COLLECTIONS.get(kind)  # without path resolvers, Resolver.resolve's answer for each kind
            return tag if tag is not None else super().resolve(kind, value, implicit)  # type: ignore[misc]
        tag = _TAGS.get((value, implicit))
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[misc]
            if len(_TAGS) >= CACHE_LIMIT:
                _TAGS.clear()
            _TAGS[(value, implicit)] = tag
        return tag

    # Path resolvers are what makes a tag depend on more than (kind, value, implicit); the safe loader and dumper
    # have none, and with none these two only look at that empty table, once per node.
    if not Resolver.yaml_path_resolvers:

        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass
