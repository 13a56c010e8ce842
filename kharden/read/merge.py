"""Documents with YAML merge keys (`<<: *base`): read without touching the node tree, values unshared.

PyYAML's SafeConstructor merges by rewriting the node tree in place (`flatten_mapping` replaces a mapping's
entries by the merged ones and drops the `<<` key). kharden keeps that tree to know where every key is written, so
the rewrite made `- <<: *base` then `name: b` look like a duplicate key `name`, and edits meant for container b were
spliced into the anchored mapping of container a. Here the value is built from a copy of the tree (the original
stays as written), and every value a mapping takes from `<<` is copied, so hardening one container never changes
another through the shared anchor: an edit to a merged field is made in the container's own mapping, where a key of
its own overrides the merged one (YAML merge key spec: https://yaml.org/type/merge.html).
"""

from __future__ import annotations

import copy
from typing import Any, Iterator

from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode

MERGE = "tag:yaml.org,2002:merge"


def _merging(node: Node) -> Iterator[MappingNode]:
    """Each mapping of the tree that has a `<<` key, lazily (each node visited once: aliases share nodes)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if id(n) in seen or isinstance(n, ScalarNode):
            continue
        seen.add(id(n))
        if isinstance(n, MappingNode):
            if any(k.tag == MERGE for k, _ in n.value):
                yield n
            stack.extend(v for kv in n.value for v in kv)
        else:
            stack.extend(n.value)


def has_merge_key(node: Node) -> bool:
    """Does any mapping in the tree have a `<<` key?"""
    return next(_merging(node), None) is not None


def construct(c: SafeConstructor, node: Node) -> Any:
    """SafeConstructor's value of the document at `node`, the node tree left as written and merged values unshared."""
    twin = copy.deepcopy(node)  # aliases stay aliases in the copy: deepcopy keeps a memo
    own_keys = _own_keys(twin)  # read before construction flattens the copy
    # SafeConstructor.construct_document, keeping its node -> value table until the values are unshared
    value = c.construct_object(twin)
    while c.state_generators:
        generators, c.state_generators = c.state_generators, []
        for generator in generators:
            for _ in generator:
                pass
    built = c.constructed_objects
    c.constructed_objects, c.recursive_objects, c.deep_construct = {}, {}, False
    for n, own in own_keys:
        obj = built.get(n)
        if isinstance(obj, dict):
            for key in [k for k in obj if k not in own]:
                obj[key] = copy.deepcopy(obj[key])
    return value


def _own_keys(node: Node) -> list[tuple[Node, set[Any]]]:
    """Each mapping node with `<<`, and the keys written in it (not taken from the merge)."""
    return [(n, {k.value for k, _ in n.value if isinstance(k, ScalarNode) and k.tag != MERGE}) for n in _merging(node)]


def inherited(node: MappingNode) -> dict[Any, Any]:
    """The values a mapping node takes from its `<<` keys (its own keys aside), as the reader builds them."""
    merges = [(k, v) for k, v in node.value if k.tag == MERGE]
    if not merges:
        return {}
    value = construct(SafeConstructor(), MappingNode("tag:yaml.org,2002:map", merges))
    return value if isinstance(value, dict) else {}
