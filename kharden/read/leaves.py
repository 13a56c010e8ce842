"""The nodes of what one line holds: a key, a scalar (and the lines below it that it goes on over), a one-line
flow collection; and `Text`, which gives libyaml's marks for places in the text. kharden.read.positions makes a
block's entries with them, as they are walked; each says what libyaml's node would: tag, value, style and marks.
"""

from __future__ import annotations

from array import array
from itertools import accumulate
from typing import Any, Sequence

import yaml
from yaml._yaml import Mark
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from kharden.read import scalars
from kharden.read.tagcache import tag_of

_NAME = "<unicode string>"  # what libyaml's marks name a text given as a str
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
_STR = "tag:yaml.org,2002:str"
_PLAIN = (True, False)  # the `implicit` the composer resolves a plain scalar with


class Lines(Sequence[str]):
    """The lines of a text without their line breaks (CRLF read as LF), each sliced from the text when asked: a
    run keeps its sources' texts anyway, and a list of every line would cost about 75 bytes a line more."""

    __slots__ = ("text", "starts")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = _starts(text)

    def __len__(self) -> int:
        return len(self.starts) - 1

    def __getitem__(self, i: Any) -> Any:
        if i.__class__ is not int:
            raise TypeError("Lines are read one at a time")
        if i < 0:
            i += len(self.starts) - 1
        line = self.text[self.starts[i] : self.starts[i + 1] - 1]
        return line[:-1] if line[-1:] == "\r" else line


def _starts(text: str) -> array[int]:
    """Where each line of the text as given starts (its line breaks may be CRLF, LF or both), and where a line after
    its last would."""
    return array("q", accumulate((len(ln) + 1 for ln in text.split("\n")), initial=0))


class Text:
    """The lines of one text read by subset (CRLF read as LF), and the text as given, where each line starts."""

    __slots__ = ("lines", "text", "_starts")

    def __init__(self, lines: Sequence[str], text: str) -> None:
        self.lines = lines
        self.text = text
        self._starts: array[int] | None = lines.starts if isinstance(lines, Lines) else None  # else made when needed

    def mark(self, line: int, column: int) -> Any:
        """libyaml's mark of a place: the column of a line (columns are the same with CRLF), or the text's end."""
        if line >= len(self.lines):
            return Mark(_NAME, len(self.text), len(self.lines) - 1, len(self.lines[-1]), None, None)
        return Mark(_NAME, self.offset(line) + column, line, column, None, None)

    def offset(self, line: int) -> int:
        """Where a line starts in the text as given; the text's end for a line past its last."""
        starts = self._starts
        if starts is None:
            starts = self._starts = _starts(self.text)
        return starts[line] if line < len(self.lines) else len(self.text)


def key_node(text: Text, line: int, at: int, raw: str) -> ScalarNode:
    if raw[0] in "\"'":
        value, style, length, tag = raw[1:-1], raw[0], len(raw), _STR
    else:
        value = raw.rstrip(" ")
        style, length, tag = "", len(value), tag_of(ScalarNode, value, _PLAIN)
    return ScalarNode(tag, value, text.mark(line, at), text.mark(line, at + length), style)


def scalar_node(text: Text, line: int, at: int, rest: str, col: int) -> yaml.Node:
    """The node of a value that starts at column `at` of `line` (`rest`: the line from there), in a block whose
    keys or dashes stand at column `col`."""
    c = rest[0]
    if c in "\"'":
        return _quoted(text, line, at, rest, col)
    if c in "[{":
        return _flow(text, line, at, rest)
    if c in "|>":
        m = scalars.BLOCK_HEADER.match(rest)
        assert m is not None
        value, after = scalars.block_scalar(m, text.lines, line + 1, col)
        return ScalarNode(_STR, value, text.mark(line, at), text.mark(after, 0), c)
    return _plain(text, line, at, rest, col)


def _quoted(text: Text, line: int, at: int, rest: str, col: int) -> ScalarNode:
    quote = rest[0]
    one_line, opened, unquote = scalars.QUOTED[quote]
    m = one_line.match(rest)
    if m is not None:
        return ScalarNode(_STR, unquote(m.group(1)), text.mark(line, at), text.mark(line, at + m.end(1) + 1), quote)
    m = opened.match(rest)
    assert m is not None
    value, after = scalars.quoted_lines(m, text.lines, line + 1, col)
    last = text.lines[after - 1]
    body = last.lstrip(" ")
    close = _CLOSE[quote].match(body)
    assert close is not None
    end = len(last) - len(body) + close.end(1) + 1  # just past the closing quote
    return ScalarNode(_STR, value, text.mark(line, at), text.mark(after - 1, end), quote)


_CLOSE = {'"': scalars.DQ_CLOSE, "'": scalars.SQ_CLOSE}


def _flow(text: Text, line: int, at: int, rest: str) -> yaml.Node:
    """`[...]` of scalars on one line, or an empty `{}`: the only flow collections subset reads."""
    if rest[0] == "{":
        close = rest.index("}")
        return MappingNode(MAP, [], text.mark(line, at), text.mark(line, at + close + 1), flow_style=True)
    m = scalars.FLOW_SEQ.match(rest)
    assert m is not None
    close = rest.index("]", m.end(1))
    items = []
    inner, base, pos = m.group(1), at + m.start(1), 0
    while pos < len(inner):
        item = scalars.FLOW_ITEM.match(inner, pos)
        assert item is not None
        pos = item.end()
        token, start = item.group(1), base + item.start(1)
        if token[0] in "\"'":
            items.append(_quoted(text, line, start, token, 0))
        else:
            tag = tag_of(ScalarNode, token, _PLAIN)
            items.append(ScalarNode(tag, token, text.mark(line, start), text.mark(line, start + len(token)), ""))
    return SequenceNode(SEQ, items, text.mark(line, at), text.mark(line, at + close + 1), flow_style=True)


def _plain(text: Text, line: int, at: int, rest: str, col: int) -> ScalarNode:
    """A plain scalar, folded over the lines below it that go on with it (as subset._continued reads them)."""
    lines = text.lines
    value, end_line, end = scalars.cut(rest), line, at
    end += len(value)
    blanks = 0
    j = line + 1
    ended = " #" in rest
    while not ended and j < len(lines):
        body = lines[j].lstrip(" ")
        if not body:
            blanks += 1
            j += 1
            continue
        if body[0] == "#" or len(lines[j]) - len(body) <= col:
            break
        more = scalars.cut(body)
        ended = " #" in body
        value += scalars.fold(blanks) + more
        blanks = 0
        end_line, end = j, len(lines[j]) - len(body) + len(more)
        j += 1
    return ScalarNode(tag_of(ScalarNode, value, _PLAIN), value, text.mark(line, at), text.mark(end_line, end), "")

