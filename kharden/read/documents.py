"""A stream read document by document: kharden's own reader where it is sure, libyaml for the documents it is not.

kharden.read.subset reads the part of YAML most manifests are written in; one document outside it (a
`labels: {app: x}`, a scalar over 2 MiB) used to hand the whole stream to libyaml. Here the stream is cut at its
`---` lines and each document is read on its own: subset reads those it knows, and the ones it declines are joined,
in order, into one text that libyaml reads in one pass (one parser for all of them: one per document cost more than
the reading). Their node trees are then moved to where their text stands in the stream.

A `---` line at column 0 ends whatever came before it (a block ends, a plain scalar ends, a quoted scalar or a flow
collection left open there is an error), so each document reads alone as it reads in the stream. Where the cut
is not plainly right, nothing is read here and the caller reads the whole stream with libyaml as before: a
directive (`%YAML`, `%TAG`: it reaches into the next document), a lone CR, an empty document (libyaml puts its
null where the next token starts), a declined piece that does not read back as exactly one document lying inside
its text, or any error (libyaml, reading the whole stream, says where it is).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import yaml

from kharden.errors import InputError
from kharden.read import fastload, positions, scalars, subset
from kharden.read.fastload import Loader
from kharden.read.leaves import Lines
from kharden.read.limits import MAX_SCALAR_CHARS
from kharden.read.subset import Outline

Read = tuple[yaml.Node, Any, bool]  # a document read by libyaml: (node tree, value, whether a key may repeat)


class Part(NamedTuple):
    """Lines [lo, hi) of a stream, from a `---` line (or the stream's start) to the next; read by subset (its
    documents' values and outlines) or declined (both None)."""

    lo: int
    hi: int
    values: list[Any] | None
    outlines: list[Outline] | None


def split(text: str) -> tuple[list[str], list[Part]] | None:
    """The stream's lines (CRLF read as LF) and its parts, each read by subset where it is sure; None where the
    stream must be read whole (a directive, a lone CR)."""
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if text.startswith("%") or "\n%" in text:
        return None
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line[:3] == "---" and (len(line) == 3 or line[3] in " \t")]
    bounds = ([0] if not starts or starts[0] else []) + starts + [len(lines)]
    odd = subset.has_odd(text)  # each piece is looked at only when the whole has something odd
    big = len(text) > MAX_SCALAR_CHARS
    return lines, [piece(lines, lo, hi, odd, big) for lo, hi in zip(bounds, bounds[1:])]


def piece(lines: list[str], lo: int, hi: int, odd: bool, big: bool) -> Part:
    declined = Part(lo, hi, None, None)
    if (odd or big) and _odd_or_big(lines[lo:hi]):
        return declined
    try:
        values, outlines = subset.documents(lines, lo, hi)
    except scalars.Unsure:
        return declined
    if any(o is None for o in outlines):  # an empty document
        return declined
    return Part(lo, hi, values, outlines)  # type: ignore[arg-type]  # no None: checked above


def _odd_or_big(lines: list[str]) -> bool:
    piece = "\n".join(lines)
    return len(piece) > MAX_SCALAR_CHARS or subset.has_odd(piece)


def read(text: str, path: str) -> list[Read] | None:
    """Every document of the stream: (node tree, value, whether a mapping may repeat a key). None where the stream
    is best read whole by libyaml: it cannot be cut, subset reads none of it, or a declined piece is not plain."""
    cut = split(text)
    if cut is None:
        return None
    lines, parts = cut
    declined = [p for p in parts if p.values is None]
    if len(declined) == len(parts):
        return None  # libyaml reads all of it: in one piece, as before
    shared = positions.Text(Lines(text), text)  # not `lines`: a list of every line would live as long as the tree
    others = by_libyaml(shared, declined, path) if declined else {}
    if others is None:
        return None
    out: list[Read] = []
    for p in parts:
        if p.values is None:
            out += others[p.lo]
        else:
            out += [(positions.root(shared, o), v, False) for v, o in zip(p.values, p.outlines or ())]
    return out


def by_libyaml(text: positions.Text, parts: list[Part], path: str) -> dict[int, list[Read]] | None:
    """The declined parts' documents by the line each part starts at, read by libyaml in one pass over their texts
    joined; None where a part does not read as one document inside its text (or at all)."""
    pieces = [text.text[text.offset(p.lo):text.offset(p.hi)] for p in parts]
    joined = "".join(pieces)
    try:
        docs = _compose(joined, path)
    except (yaml.YAMLError, InputError, RecursionError, UnicodeEncodeError):
        return None
    out: dict[int, list[Read]] = {}
    aliases = "&" in joined
    start, line, k = 0, 0, 0
    for p, piece in zip(parts, pieces):
        end = start + len(piece)
        mine = []
        while k < len(docs) and docs[k][0].start_mark.index < end:
            mine.append(docs[k])
            k += 1
        if len(mine) > 1 or (not mine and p.lo) or any(n.start_mark.index < start or n.end_mark.index > end
                                                        for n, _, _ in mine):
            return None
        for node, _, _ in mine:
            _move(node, text.offset(p.lo) - start, p.lo - line, aliases)
        out[p.lo] = mine
        start, line = end, line + p.hi - p.lo
    return out if k == len(docs) else None


def _compose(text: str, path: str) -> list[Read]:
    loader = Loader(text)
    constructor = fastload.Constructor()
    facts = fastload.stream_facts(text)
    docs: list[Read] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                raise yaml.YAMLError("an empty document")
            data, repeated = constructor.read_document(node, path, len(docs), facts)
            docs.append((node, data, repeated))
    finally:
        loader.dispose()
    return docs


def _move(root: yaml.Node, index: int, line: int, aliases: bool) -> None:
    """Every mark of a node tree moved by `index` characters and `line` lines (columns stay: pieces start lines).
    With `aliases` (the text has a `&`), a node met twice is the anchor's very node: moved once."""
    if not index and not line:
        return
    mark = type(root.start_mark)
    seen: set[int] | None = set() if aliases else None
    stack = [root]
    while stack:
        node = stack.pop()
        if seen is not None:
            if id(node) in seen:
                continue
            seen.add(id(node))
        m = node.start_mark
        node.start_mark = mark(m.name, m.index + index, m.line + line, m.column, None, None)  # type: ignore[arg-type]  # PyYAML takes None
        m = node.end_mark
        node.end_mark = mark(m.name, m.index + index, m.line + line, m.column, None, None)  # type: ignore[arg-type]  # as above
        value = node.value
        if value.__class__ is list:
            for item in value:
                if item.__class__ is tuple:
                    stack += item
                else:
                    stack.append(item)
