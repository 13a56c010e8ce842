"""What kharden asks of a document's node tree, answered the same whichever reader built it.

A document's tree is libyaml's (nodes composed whole) or kharden.read.positions' (nodes made as they are walked, for
the documents kharden.read.subset read). Splicing an edit and naming a line ask four things of a tree: a child by
key or index, a mapping's entries by key, where a node's own text ends, and the document's indentation habits.
A tree made as it is walked answers them itself, from its outline, without making the nodes libyaml would have
made (its nodes have the methods `child`, `entries`, `content_end` and `indentation`); a composed tree is walked
here. Callers use these functions and never look at which reader built a tree.
"""

from __future__ import annotations

from typing import Any, Mapping

import yaml
from yaml.constructor import SafeConstructor

from kharden.read.merge import MERGE

Entry = tuple[yaml.Node, yaml.Node]  # (key node, value node)


def child(node: yaml.Node, key: Any) -> tuple[yaml.Node | None, yaml.Node | None]:
    """(the child at `key`, its key's node when `key` is a mapping key); (None, None) where there is none."""
    own = getattr(node, "child", None)
    if own is not None:
        return own(key)  # type: ignore[no-any-return]  # a lazy tree's own (read/positions)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v, k if isinstance(key, str) else None
        return None, None
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key], None
    return None, None


def entries(node: yaml.MappingNode) -> Mapping[Any, Entry]:
    """A mapping's entries by key (as the value has them), without its `<<` merge keys."""
    own = getattr(node, "entries", None)
    if own is not None:
        return own()  # type: ignore[no-any-return]  # a lazy tree's own (read/positions)
    return {key_of(k): (k, v) for k, v in node.value if k.tag != MERGE}


def key_of(node: yaml.Node) -> Any:
    """A key node's value."""
    if node.__class__ is yaml.ScalarNode and node.tag == "tag:yaml.org,2002:str":  # nearly every key
        return node.value
    return SafeConstructor().construct_object(node, deep=True)


def content_end(node: yaml.Node, text: str) -> int:
    """Where a node's own text ends: for block collections, the end of their last entry (not the next token)."""
    own = getattr(node, "content_end", None)
    if own is not None:
        return own()  # type: ignore[no-any-return]  # a lazy tree's own (read/positions)
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not is_flow(node) and node.value:
        last = node.value[-1]
        value = last[1] if isinstance(last, tuple) else last
        if value.start_mark.index < (last[0].end_mark.index if isinstance(last, tuple) else 0):
            return _line_end(text, last[0].end_mark.index)  # an alias: its marks are its anchor's
        node = value
    return node.end_mark.index


def indentation(root: yaml.Node | None, text: str) -> tuple[int | None, int | None, bool]:
    """A document's indentation habits: how far a nested block mapping's keys stand right of their parent's key,
    how far a block sequence's dashes do (each from the first such block met), and whether it is written as JSON."""
    own = getattr(root, "indentation", None)
    if own is not None:
        return own()  # type: ignore[no-any-return]  # a lazy tree's own (read/positions)
    is_json = text[root.start_mark.index : root.start_mark.index + 1] in "{[" if root is not None else False
    indent, seq = None, None
    stack: list[yaml.Node] = [root] if root is not None else []
    while stack and (indent is None or seq is None):
        node = stack.pop()
        if isinstance(node, yaml.MappingNode) and not is_flow(node):
            for k, v in node.value:
                if v.__class__ is yaml.ScalarNode:
                    continue
                if indent is None and isinstance(v, yaml.MappingNode) and v.value and not is_flow(v):
                    indent = v.value[0][0].start_mark.column - k.start_mark.column
                if seq is None and isinstance(v, yaml.SequenceNode) and v.value and not is_flow(v):
                    dash = text.rindex("-", 0, v.value[0].start_mark.index)
                    seq = dash - text.rfind("\n", 0, dash) - 1 - k.start_mark.column
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value
    if is_json and isinstance(root, yaml.MappingNode) and root.value:
        indent = root.value[0][0].start_mark.column - root.start_mark.column
    return indent, seq, is_json


def is_flow(node: yaml.Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def _line_end(text: str, pos: int) -> int:
    at = text.find("\n", pos)
    return len(text) if at < 0 else at
