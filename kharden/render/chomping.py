"""Block scalars at the end of a text: a line break added after one must not change its value.

A `|` or `>` scalar that clips or keeps its final line break takes a line break added after it into its value.
Where kharden adds lines after such a scalar (an entry inserted at the end of a document, a document joined after a
file that ends without a line break), the scalar's header is made to strip instead (`|` -> `|-`, `>2+` -> `>2-`):
with the line break added, its value is exactly what it was.
"""

from __future__ import annotations

import re

import yaml

Edit = tuple[int, int, str]  # replace text[start:end] with the string


def last_scalar(node: yaml.Node) -> yaml.Node:
    """The node whose text ends a block collection: its last value, all the way down."""
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        node = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    return node


_BLOCK_HEADER = re.compile(r"([|>])([1-9]?)[+-]?([1-9]?)")


def strip_chomping(node: yaml.Node, text: str) -> Edit | None:
    """For a block scalar (`|`, `>`) that keeps or clips its final line break: the edit of its header that makes it
    strip that line break instead (`|` -> `|-`, `>2+` -> `>2-`). A line break then added after it, where the text
    ends without one, leaves its value exactly as it was."""
    if not isinstance(node, yaml.ScalarNode) or node.style not in ("|", ">"):
        return None
    at = text.find(node.style, node.start_mark.index)  # after any tag or anchor before the indicator
    header = _BLOCK_HEADER.match(text, at) if at >= 0 else None
    if header is None or "-" in header.group(0):
        return None
    indicator, indent_a, indent_b = header.groups()
    return (at, header.end(), indicator + (indent_a or indent_b) + "-")


