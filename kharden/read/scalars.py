"""The scalars of the YAML most manifests are written in, read as libyaml reads them or not at all.

kharden.read.subset takes each line apart and reads the value after its colon or dash here: a plain or quoted
scalar, `[a, "b"]` and `{}` on one line, or (`Below`) a scalar that goes on over the lines below, a `|`/`>` block
scalar or a quoted one. Anything else raises `Unsure`, and libyaml reads the text instead. Scalars resolve as
YAML 1.1 (PyYAML's resolver: `yes` is true, `0644` is 420, quoted stays a string), each distinct text once per
process. kharden.read.positions reads the same texts again where it makes their nodes.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from yaml.nodes import ScalarNode

from kharden.read.fastload import _CACHED, _plain_scalar
from kharden.read.tagcache import tag_of

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN = (True, False)  # the `implicit` of a plain scalar, as the composer passes it to the resolver
_DQ = re.compile(r'"((?:[^"\\]|\\.)*)"(?: +#.*)? *$')
_SQ = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *$")
# A quoted scalar that goes on below (a double-quoted one only without escapes: a backslash may end its line).
_DQ_OPEN = re.compile(r'"([^"\\]*)$')
_SQ_OPEN = re.compile(r"'((?:[^']|'')*)$")
DQ_CLOSE = re.compile(r'([^"\\]*)"(?: +#.*)? *$')
SQ_CLOSE = re.compile(r"((?:[^']|'')*)'(?: +#.*)? *$")
_DQ_MIDDLE = re.compile(r'[^"\\]*$')
_SQ_MIDDLE = re.compile(r"(?:[^']|'')*$")
_ESCAPE = re.compile(r"\\(?:([0abt nvfre\"/\\N_LP])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")
_ESCAPES = {"0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}
_EMPTY_FLOW = re.compile(r"(?:\[ *\]|\{ *\})(?: +#.*)? *$")
FLOW_SEQ = re.compile(r"\[ *(.*?) *\](?: +#.*)? *$")
FLOW_ITEM = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s,\[\]{}#'"&*!|>%@`?:-][^,\[\]{}#:'"]*?) *(?:, *|$)""")
BLOCK_HEADER = re.compile(r"([|>])(?:([1-9])([+-])?|([+-])([1-9])?)?(?: +#.*)? *$")
_ESCAPED = re.compile(r"(?:[^\\]|\\(?:[0abt nvfre\"/\\N_LP]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}))*")
NOT_PLAIN_START = frozenset("#'\"[]{},&*!|>%@`")
NESTED = object()  # nothing after the colon or dash: the value is on the lines below, or null
EMPTY_MAP = object()  # `{}`: a new dict each time it is used


class Below:
    """A scalar that goes on over the lines below: a block scalar's header (`|`, `>-`, `|2`), or a quoted scalar
    without its closing quote. `read(lines, i, col)` gives its value and the line after it."""

    __slots__ = ("read", "match")

    def __init__(self, read: Any, match: re.Match[str]) -> None:
        self.read, self.match = read, match


class Unsure(Exception):
    """The text leaves the part of YAML this reader knows: libyaml reads it instead."""


def cut(s: str) -> str:
    """A plain scalar's text on one line: up to a comment, without trailing spaces."""
    at = s.find(" #")
    return (s if at < 0 else s[:at]).rstrip(" ")


def fold(blanks: int) -> str:
    """What libyaml makes of a line break inside a plain or quoted scalar, with `blanks` blank lines after it (the
    spaces around it go): one line break becomes a space, n + 1 of them n newlines."""
    return " " if not blanks else "\n" * blanks


def read_key(raw: str) -> Any:
    c = raw[0]
    if c == '"' or c == "'":
        return raw[1:-1]  # the pattern lets no escape and no '' into a quoted key
    return resolved(raw.rstrip(" "))


def resolved(s: str) -> Any:
    """A plain scalar's value: YAML 1.1's string, null, bool, int, float or timestamp."""
    tag = tag_of(ScalarNode, s, _PLAIN)
    if tag == _STR:
        return s
    if tag in _CACHED or tag == _TIMESTAMP:
        return _plain_scalar(tag, s)
    raise Unsure  # `<<` (a merge key), `=`


def read_value(s: str) -> Any:
    """A value that starts on this line after a colon or dash: a scalar, `[...]` (a tuple), `{}` (EMPTY_MAP),
    NESTED (a comment: the value is below), or Below (a block scalar, a quoted scalar over several lines)."""
    c = s[0]
    if c == "#":
        return NESTED
    if c == '"' or c == "'":
        one_line, opened, unquote = QUOTED[c]
        m = one_line.match(s)
        if m is not None:
            return unquote(m.group(1))
        m = opened.match(s)
        if m is None:
            raise Unsure
        return Below(quoted_lines, m)
    if c == "[" or c == "{":
        if _EMPTY_FLOW.match(s):
            return () if c == "[" else EMPTY_MAP
        m = FLOW_SEQ.match(s) if c == "[" else None
        if m is None:
            raise Unsure
        return _flow_items(m.group(1))
    if c == "|" or c == ">":
        m = BLOCK_HEADER.match(s)
        if m is None:
            raise Unsure
        return Below(block_scalar, m)
    return _plain_value(s)


def _plain_value(s: str) -> Any:
    s = cut(s)
    c = s[0]
    if c in NOT_PLAIN_START or (c in "-?:" and (len(s) == 1 or s[1] == " ")) or ": " in s or s[-1] == ":":
        raise Unsure  # an indicator, or a mapping inside a value (an error libyaml words better)
    return resolved(s)


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    if not _ESCAPED.fullmatch(s):
        raise Unsure  # an escape libyaml refuses
    return _ESCAPE.sub(_escaped, s)


def _single_quoted(s: str) -> str:
    return s.replace("''", "'")


# for each quote: its scalar on one line, its scalar opened on this line (and closed below), and the value of a text
QUOTED = {'"': (_DQ, _DQ_OPEN, _unescape), "'": (_SQ, _SQ_OPEN, _single_quoted)}


def _escaped(m: re.Match[str]) -> str:
    simple, *codes = m.groups()
    if simple is not None:
        return _ESCAPES[simple]
    code = int(next(c for c in codes if c is not None), 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise Unsure  # libyaml refuses these
    return chr(code)


def _flow_items(inner: str) -> tuple[Any, ...]:
    """The items of a one-line flow sequence of scalars (a tuple: values are remembered, and copied on use)."""
    items = []
    pos = 0
    while pos < len(inner):
        m = FLOW_ITEM.match(inner, pos)
        if m is None or m.end() == pos:
            raise Unsure
        pos = m.end()
        item = m.group(1)
        items.append(read_value(item) if item[0] in "\"'" else _plain_value(item))
    return tuple(items)


def quoted_lines(m: re.Match[str], lines: Sequence[str], i: int, col: int) -> tuple[str, int]:
    """(value, next line) of a quoted scalar opened on line i - 1 and closed on a line below.

    Its lines must be indented past `col` (the spec's rule; libyaml does not check it, so both read what is
    accepted here). libyaml folds them as it folds a plain scalar's: the spaces around each line break go, one
    line break becomes a space, n + 1 of them (blank lines between) n newlines.
    """
    single = m.string[0] == "'"
    close, middle = (SQ_CLOSE, _SQ_MIDDLE) if single else (DQ_CLOSE, _DQ_MIDDLE)
    text = m.group(1).rstrip(" ")
    blanks = 0
    n = len(lines)
    while i < n:
        line = lines[i]
        i += 1
        body = line.lstrip(" ")
        if not body:
            blanks += 1
            continue
        if len(line) - len(body) <= col:
            raise Unsure
        end = close.match(body)
        text += fold(blanks)
        blanks = 0
        if end is not None:
            text += end.group(1)
            return (_single_quoted(text) if single else text), i
        if middle.match(body) is None:
            raise Unsure
        text += body.rstrip(" ")
    raise Unsure  # not closed


def block_scalar(m: re.Match[str], lines: Sequence[str], i: int, col: int) -> tuple[str, int]:
    """(value, next line) of a `|` or `>` scalar whose header ends line i - 1, in a block at column `col`.

    libyaml's scanner, line by line: the content is indented by the indicator's count past `col`, or by its first
    line; a fold joins two lines of text that start with no space and have no blank line between them.
    """
    literal = m.group(1) == "|"
    count = m.group(2) or m.group(5)
    chomp = m.group(3) or m.group(4)
    if count:
        indent = col + int(count)
    else:  # the first line that is not blank sets it; a blank line before it must not be longer
        j = i
        while j < len(lines) and not lines[j].strip(" "):
            j += 1
        if j == len(lines):
            raise Unsure
        first = lines[j]
        indent = len(first) - len(first.lstrip(" "))
        if any(len(lines[k]) > indent for k in range(i, j)) or indent <= col:
            raise Unsure  # an empty scalar, or a blank line that would set the indentation
    chunks: list[str] = []
    leading_break = ""  # the line break after the last line of text
    trailing = 0  # blank lines since it
    leading_blank = False
    n = len(lines)
    while i < n:
        line = lines[i]
        body = line[indent:]
        if len(line) - len(line.lstrip(" ")) < indent or not body:  # shorter than the indentation, or blank
            if line.strip(" "):
                break  # text to the left: the scalar has ended
            if i == n - 1:  # the last line, without a line break of its own
                break
            trailing += 1
            i += 1
            continue
        if not literal and leading_break and not leading_blank and body[0] != " ":
            if not trailing:
                chunks.append(" ")
        else:
            chunks.append(leading_break)
        chunks.append("\n" * trailing)
        trailing = 0
        leading_blank = body[0] == " "
        chunks.append(body)
        leading_break = "\n" if i < n - 1 else ""
        i += 1
    if not chunks:
        raise Unsure
    if chomp != "-":
        chunks.append(leading_break)
    if chomp == "+":
        chunks.append("\n" * trailing)
    value = "".join(chunks)
    return value, i
