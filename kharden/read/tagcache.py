"""Scalar tags resolved once per process, for libyaml's loader and dumper alike.

libyaml's composer (reading) and emitter (writing) call the pure-Python `Resolver.resolve` for every scalar, which
runs regular expressions on it: that was among the largest costs of reading and of stream mode's dump. Without path
resolvers (the safe loader and dumper have none) a scalar's tag depends only on (value, implicit), so `tag_of`
remembers it: keys such as `name` or `image` resolve once per process, however many files are read or dumped. The
tags depend only on the resolver's implicit table, which kharden never changes; the table is bounded (least
recently used tags go first).

The composer also calls three Python methods for every node: `resolve`, and the path-resolver hooks
`descend_resolver` and `ascend_resolver`, which do nothing without path resolvers. A loader binds all three to
C callables (`tag_of` is a C `lru_cache`; the hooks are C no-ops): composing the changed documents of the generated
1k corpus took 0.150 -> 0.102 s (best of 25).
"""

from __future__ import annotations

from functools import lru_cache, partial
from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

CACHE_LIMIT = 100_000  # tags remembered; bounds memory on huge, varied input
PATH_RESOLVERS = bool(Resolver.yaml_path_resolvers)  # what makes a tag depend on more than (kind, value, implicit)

# (kind, value, implicit) -> tag, as the safe resolver answers. Only for hashable values: the composer passes a
# scalar's text or None; the emitter passes a collection's items, so its collections go through TagCache.resolve.
tag_of = lru_cache(maxsize=CACHE_LIMIT)(partial(Resolver.resolve, Resolver()))

_COLLECTIONS: dict[Any, str] = {} if PATH_RESOLVERS else {
    MappingNode: Resolver.DEFAULT_MAPPING_TAG, SequenceNode: Resolver.DEFAULT_SEQUENCE_TAG}


# C callables that touch nothing: descend_resolver(node, index) and ascend_resolver() without path resolvers.
_NO_OP_HOOKS: dict[str, Any] = {"descend_resolver": {}.get, "ascend_resolver": tuple}


class TagCache:
    """Mixin before a libyaml Loader or Dumper class: tags through the process's table."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not PATH_RESOLVERS:  # instance attributes, found before the class's methods
            self.__dict__.update(_NO_OP_HOOKS)

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode and not PATH_RESOLVERS:
            return tag_of(kind, value, implicit)  # type: ignore[no-any-return]  # a tag: a str
        tag = _COLLECTIONS.get(kind)  # without path resolvers, Resolver.resolve's answer for each kind
        return tag if tag is not None else super().resolve(kind, value, implicit)  # type: ignore[misc]  # a mixin before PyYAML's Resolver


class LoaderTags(TagCache):
    """For a loader: the composer asks only with hashable values, so `resolve` is `tag_of` itself, a C call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not PATH_RESOLVERS:
            self.__dict__["resolve"] = tag_of
