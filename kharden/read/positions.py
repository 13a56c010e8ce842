"""Where each part of a document stands, for documents kharden.read.subset read: worked out only where asked.

kharden needs positions to splice an edit into the text (kharden.render.splice) and to name a line in a message.
Both ask along a few paths of a few documents, yet libyaml's composer builds a node and two marks for every value
of every document: most of the cost of reading a manifest, and most of the memory a run holds. A document read by
kharden.read.subset has an outline instead (where each block and entry is, by line), and its node tree is made from
that as it is walked: a block's entries when first asked for, and of those only the ones asked for by key
(`BlockMapping.present`).

The nodes are PyYAML's own classes with libyaml's own marks, and say what libyaml's would: tag, value and style
(plain is ''), where each starts, and where each scalar and flow collection ends; tests compare the two trees over
the corpus and generated texts (tests/test_positions.py). Where a block collection ends (libyaml: where the next
token starts, past comments and blank lines) is the one thing not kept: kharden works that out from its last entry
(kharden.read.trees.content_end), and asking for it is an error.
"""

from __future__ import annotations

from typing import Any, Iterator

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kharden.read import subset
from kharden.read.leaves import MAP as _MAP, SEQ as _SEQ, Text, key_node as _key, scalar_node as _scalar
from kharden.read.subset import Outline

__all__ = ["BlockMapping", "BlockSequence", "Text", "content_end", "indentation", "root"]
_NULL = "tag:yaml.org,2002:null"


def root(text: Text, outline: Outline) -> yaml.Node:
    """The node tree of one document, made as it is walked."""
    return _block(text, outline)


def _block(text: Text, outline: Outline) -> yaml.Node:
    cls = BlockMapping if outline[2] else BlockSequence
    node = cls.__new__(cls)
    node.__dict__.update(tag=_MAP if outline[2] else _SEQ, flow_style=False, _text=text, _outline=outline, _made={})
    return node


class _Block:
    """A block mapping or sequence: its entries are made when asked for; where it ends is not kept."""

    _text: Text
    _outline: Outline
    _made: dict[int, Any]  # the entries made so far, by their place in the outline
    places: list[int]  # where each entry is in the outline: the line of each entry is outline[place]

    def __getattr__(self, name: str) -> Any:  # only for what the instance does not have yet: made once, kept
        o = self._outline
        if name == "value":
            value: Any = _Entries(self)
        elif name == "places":
            value = [k for k in range(3, len(o)) if o[k].__class__ is int]
        elif name == "start_mark":
            value = self._text.mark(o[0], o[1])
        elif name == "end_mark":
            raise AttributeError("kharden does not keep where a block collection ends: see kharden.read.trees.content_end")
        else:
            raise AttributeError(name)
        self.__dict__[name] = value
        return value

    def entry(self, place: int) -> Any:
        """The (key node, value node) of the mapping entry at `place` in the outline, or the sequence item's node."""
        return _made(self._made, self._text, self._outline, place)

    # what kharden.read.trees asks of a tree, answered from the outline
    def content_end(self) -> int:
        return content_end(self)  # type: ignore[arg-type]  # a _Block is a BlockMapping or BlockSequence

    def indentation(self) -> tuple[int | None, int | None, bool]:
        return (*indentation(self), False)  # type: ignore[arg-type]  # subset reads no JSON


class BlockMapping(_Block, MappingNode):
    def child(self, key: Any) -> tuple[Any, Any]:
        """(value node, key node) of the entry at `key`, made only now; (None, None) where there is none."""
        present = self.present()
        if isinstance(key, str) and key in present:
            key_node, value_node = present[key]
            return value_node, key_node
        return None, None

    def entries(self) -> Present:
        return self.present()

    def present(self) -> Present:
        """The mapping's entries by key (as the reader read it): no node is made until one is looked up."""
        present = self.__dict__.get("_present")
        if present is None:
            present = self.__dict__["_present"] = Present(self)
        return present


class BlockSequence(_Block, SequenceNode):
    pass


class Present(dict[Any, Any]):
    """A mapping's entries by key: `present[key]` is (key node, value node), made when first looked up; `in`,
    `len`, `get` and iterating are a dict's own, over the keys (`get` gives the entry's place in the outline)."""

    __slots__ = ("_text", "_outline", "_made")  # not the node: the node keeps this, and a cycle would need the GC

    def __init__(self, node: BlockMapping) -> None:
        lines, o = node._text.lines, node._outline
        super().__init__({subset.record(lines[o[k]])[2]: k for k in node.places})
        self._text, self._outline, self._made = node._text, o, node._made

    def __getitem__(self, key: Any) -> tuple[Any, Any]:
        return _made(self._made, self._text, self._outline, dict.__getitem__(self, key))  # type: ignore[no-any-return]  # an entry


def indentation(node: BlockMapping | BlockSequence) -> tuple[int | None, int | None]:
    """What kharden.read.trees.indentation finds on a composed tree, found on the outline (no node made): the columns a nested
    block mapping's keys stand right of their parent's key, and a block sequence's dashes, in the first such
    blocks met in the same order."""
    indent: int | None = None
    seq: int | None = None
    stack = [node._outline]
    while stack and (indent is None or seq is None):
        o = stack.pop()
        children = [o[k] for k in range(4, len(o)) if o[k].__class__ is list]
        if o[2]:
            for child in children:
                if indent is None and child[2]:
                    indent = child[1] - o[1]
                if seq is None and not child[2]:
                    seq = child[1] - o[1]
                stack.append(child)
        else:
            stack += children
    return indent, seq


class _Entries:
    """A block's `value`: its (key, value) node pairs or its item nodes, each made when first asked for. It keeps
    what the block keeps, not the block: the block keeps it, and a cycle would wait for the cyclic collector (which a
    run holds back: kharden.gcpause), so a document let go would not be freed (kharden.pipeline.finish)."""

    __slots__ = ("_made", "_text", "_outline", "_places")

    def __init__(self, block: _Block) -> None:
        self._made, self._text, self._outline, self._places = block._made, block._text, block._outline, block.places

    def __len__(self) -> int:
        return len(self._places)

    def __getitem__(self, i: int) -> Any:
        return _made(self._made, self._text, self._outline, self._places[i])

    def __iter__(self) -> Iterator[Any]:
        made, text, outline = self._made, self._text, self._outline
        return (_made(made, text, outline, place) for place in self._places)


def _made(made: dict[int, Any], text: Text, outline: Outline, place: int) -> Any:
    """The entry at `place`, made once: a block's entries are kept in `made`."""
    entry = made.get(place)
    if entry is None:
        entry = made[place] = _entry(text, outline, place)
    return entry


def content_end(node: BlockMapping | BlockSequence) -> int:
    """Where the block's own text ends: the end of its last entry's value, all the way down (what
    kharden.read.trees.content_end works out on a composed tree), with only that last value's node made."""
    text, o = node._text, node._outline
    while True:
        place = len(o) - 1 if o[-1].__class__ is int else len(o) - 2
        child = o[place + 1] if place + 1 < len(o) else None
        if child is None or child.__class__ is tuple:
            return _entry(text, o, place, key=False).end_mark.index  # type: ignore[no-any-return]  # an int
        o = child


def _entry(text: Text, outline: Outline, place: int, key: bool = True) -> Any:
    """(key node, value node) of the entry at `place` of a mapping's outline (only the value node when not `key`),
    or the item node at `place` of a sequence's."""
    lines, is_map, col = text.lines, outline[2], outline[1]
    line = outline[place]
    child = outline[place + 1] if place + 1 < len(outline) and outline[place + 1].__class__ is not int else None
    indent, dlen, _, _, rest, rawkey = subset.record(lines[line])
    at = indent + dlen  # where the key starts; after a dash, where the item's value does
    if is_map:
        key_node = _key(text, line, at, rawkey) if key else None
        after = at + len(rawkey) + 1  # just past the colon
    else:
        key_node, after = None, indent + 1  # just past the dash
    if child is None:
        if rest and rest[0] != "#":
            value = _scalar(text, line, len(lines[line]) - len(rest), rest, col)
        else:
            mark = text.mark(line, after)  # nothing: null, where libyaml puts it, after the colon or dash
            value = ScalarNode(_NULL, "", mark, mark, "")
    elif child.__class__ is tuple:  # a scalar on a line of its own, below its key or dash
        below = lines[child[0]]
        body = below.lstrip(" ")
        value = _scalar(text, child[0], len(below) - len(body), body, col)
    else:
        value = _block(text, child)
    return (key_node, value) if is_map and key else value
