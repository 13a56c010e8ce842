"""The values of the YAML most manifests are written in, read fast, and only where the answer is sure.

libyaml with PyYAML's composer costs about 3 us per node in Python objects (a node and two marks each, built in
Cython), twice per changed document: once to read it and once to prove the spliced output reads back as intended.
Most manifests use a small, regular part of YAML: block mappings and sequences by indentation, one-line plain and
quoted scalars, comments, `[a, "b"]` and `{}` on one line, and `|`/`>` block scalars. That part can be read line by
line, each distinct line taken apart once (by one regular expression) and remembered, at a fraction of libyaml's
cost.

`read_stream(text)` returns the documents' values exactly as `yaml.load_all(text, Loader=CSafeLoader)` builds them,
or None. None means "not sure", never "invalid": anything outside that part of YAML makes it give up, and the
caller reads the text with libyaml as before:

- characters libyaml refuses or treats specially (control characters, tabs, a BOM, lone CRs, NEL, LS and PS);
- anchors, aliases, tags, directives, `...`, `?` keys, merge keys (`<<`), flow collections over several lines or
  with nested collections, flow mappings that are not empty, a double-quoted scalar over several lines with a
  backslash in it, and a repeated key;
- any line whose indentation does not fit the blocks open at that point, and text over MAX_SCALAR_CHARS.

So whatever it returns is what libyaml returns, a claim that tests check against libyaml over the third-party
corpus, kharden's own output and generated texts (tests/test_subset.py). Scalars resolve as YAML 1.1 (PyYAML's
resolver: `yes` is true, `0644` is 420, quoted stays a string), each distinct text once per process.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from yaml.nodes import ScalarNode

from kharden.read.fastload import _CACHED, _plain_scalar
from kharden.read.limits import MAX_DEPTH, MAX_SCALAR_CHARS
from kharden.read.tagcache import tag_of

_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_PLAIN = (True, False)  # the `implicit` of a plain scalar, as the composer passes it to the resolver

# Everything libyaml reads as plain text: printable, no tab, no line break but \n (a CR before \n goes first), no BOM.
_ODD = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# The same for ASCII text, as a table that deletes those characters: translating is 4x as fast as searching.
_ASCII_ODD = str.maketrans("", "", "".join(map(chr, [*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F])))
# One line: indentation, a sequence entry's dash, a mapping key and its colon, and the rest of the line.
_LINE = re.compile(
    r"""^( *)(-(?: +|$))?(?:([^\s#'"\[\]{},&*!|>%@`?:-][^:#\n]*|"[^"\\\n]*"|'[^'\n]*'):(?: +|$))?(.*)$""", re.M)
_DQ = re.compile(r'"((?:[^"\\]|\\.)*)"(?: +#.*)? *$')
_SQ = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *$")
# A quoted scalar that goes on below (a double-quoted one only without escapes: a backslash may end its line).
_DQ_OPEN = re.compile(r'"([^"\\]*)$')
_SQ_OPEN = re.compile(r"'((?:[^']|'')*)$")
_DQ_CLOSE = re.compile(r'([^"\\]*)"(?: +#.*)? *$')
_SQ_CLOSE = re.compile(r"((?:[^']|'')*)'(?: +#.*)? *$")
_DQ_MIDDLE = re.compile(r'[^"\\]*$')
_SQ_MIDDLE = re.compile(r"(?:[^']|'')*$")
_ESCAPE = re.compile(r"\\(?:([0abt nvfre\"/\\N_LP])|x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))")
_ESCAPES = {"0": "\0", "a": "\x07", "b": "\x08", "t": "\t", "n": "\n", "v": "\x0b", "f": "\x0c", "r": "\r",
            "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85", "_": "\xa0", "L": "\u2028",
            "P": "\u2029"}
_EMPTY_FLOW = re.compile(r"(?:\[ *\]|\{ *\})(?: +#.*)? *$")
_FLOW_SEQ = re.compile(r"\[ *(.*?) *\](?: +#.*)? *$")
_FLOW_ITEM = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s,\[\]{}#'"&*!|>%@`?:-][^,\[\]{}#:'"]*?) *(?:, *|$)""")
_BLOCK_HEADER = re.compile(r"([|>])(?:([1-9])([+-])?|([+-])([1-9])?)?(?: +#.*)? *$")
_DOC_START = re.compile(r"---(?: +#.*)? *$")
_ESCAPED = re.compile(r"(?:[^\\]|\\(?:[0abt nvfre\"/\\N_LP]|x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}))*")
_NOT_PLAIN_START = frozenset("#'\"[]{},&*!|>%@`")

# Lines remembered with what they say (_RECORDS), short ones only: at most CACHE_LIMIT of them, each at most
# CACHED_CHARS long, so that hostile input cannot make the table large (at most about 10 MB).
CACHE_LIMIT = 20_000
CACHED_CHARS = 200
_NESTED = object()  # nothing after the colon or dash: the value is on the lines below, or null
_EMPTY_MAP = object()  # `{}`: a new dict each time it is used


class _Below:
    """A scalar that goes on over the lines below: a block scalar's header (`|`, `>-`, `|2`), or a quoted scalar
    without its closing quote. `read(lines, i, col)` gives its value and the line after it."""

    __slots__ = ("read", "match")

    def __init__(self, read: Any, match: re.Match[str]) -> None:
        self.read, self.match = read, match


class _Unsure(Exception):
    """The text leaves the part of YAML this reader knows: libyaml reads it instead."""


def read_stream(text: str) -> list[Any] | None:
    """The values of every document in `text`, as libyaml's safe loader builds them; None where not sure."""
    read = read_outlined(text)
    return None if read is None else read.values


Outline = list[Any]  # [line, column, is a mapping, entry line, (its child Outline, or (value line,)), ...]


class Read(NamedTuple):
    """A stream read: its documents' values, the outline of each (where its blocks and entries are), its lines."""

    values: list[Any]
    outlines: list[Outline | None]  # None: an empty document
    lines: list[str]  # without line breaks (CRLF read as LF)


def read_outlined(text: str) -> Read | None:
    """The values of every document in `text` and the outline of each; None where not sure."""
    if len(text) > MAX_SCALAR_CHARS:  # no scalar can pass the reader's limit: it need not be looked for
        return None
    if "\r" in text:
        if text.count("\r") != text.count("\r\n"):
            return None
        text = text.replace("\r\n", "\n")
    if _has_odd(text):
        return None
    lines = text.split("\n")
    try:
        values, outlines = _documents(lines)
    except _Unsure:
        return None
    return Read(values, outlines, lines)


# What one line says, whatever its context: where it stands, its dash and key, and the value after them. Made once
# per distinct line (a manifest repeats most of its lines: the 58,117 lines of the benchmark's hardened output are
# 4,059 different ones) and remembered: (column, length of the dash or 0, key, value, the text after them, the key
# as written).
_Record = tuple[int, int, Any, Any, str, str]
_BLANK = object()  # a line of spaces, or nothing
_COMMENT = object()
_NO_KEY = object()
_BARE = object()  # the value of a line with neither dash nor key: a scalar below its key, or a plain one going on
_DOC_START_LINE = object()  # the value of a `---` line
_BAD = object()  # a key or value this reader does not know: only where it is used is the text given up on
_RECORDS: dict[str, Any] = {}


def record(line: str) -> Any:
    """What a line says (see _Record), remembered or made now."""
    rec = _RECORDS.get(line)
    return _record(line) if rec is None else rec


def _record(line: str) -> Any:
    match = _LINE.match(line)
    assert match is not None  # every line matches
    ind, dash, rawkey, rest = match.groups("")
    if not dash and not rawkey:
        if not rest:
            return _BLANK
        if rest[0] == "#":
            return _COMMENT
        return (len(ind), 0, _NO_KEY, _DOC_START_LINE if not ind and _DOC_START.match(rest) else _BARE, rest, "")
    key: Any = _NO_KEY
    if rawkey:
        try:
            key = _key(rawkey)
        except _Unsure:
            key = _BAD
    if not rest:
        value: Any = _NESTED
    elif not rawkey and rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
        value = _BAD  # a sequence in a sequence on one line
    else:
        try:
            value = _value(rest)
        except _Unsure:
            value = _BAD
    return (len(ind), len(dash), key, value, rest, rawkey)


def _has_odd(text: str) -> bool:
    """Whether the text has a character this reader leaves to libyaml (_ODD)."""
    if text.isascii():
        return len(text.translate(_ASCII_ODD)) != len(text)
    return _ODD.search(text) is not None


def _documents(lines: list[str], lo: int = 0, hi: int | None = None) -> tuple[list[Any], list[Outline | None]]:
    """The values of the documents on lines [lo, hi) of `lines` (all of them by default), and the outline of each.

    One loop over the lines, with the open blocks on a stack: a line's indentation says which block it belongs to,
    its dash or key what it adds there. (One long function on purpose: it runs once per line of every manifest,
    and every call it does not make is time saved.)

    The outline of a block is a list: the line of its first entry, the column of its keys or dashes, whether it is
    a mapping, then the line of each entry, each followed by the outline of the block that is its value, if any (or
    by `(line,)` when its value is a scalar on a line of its own below). kharden.read.positions finds where
    anything is from it, only where asked.
    """
    docs: list[Any] = []
    outlines: list[Outline | None] = []
    root: Any = None
    started = False  # a `---` began the document being read
    cols: list[int] = []  # the open blocks, innermost last: the column of their keys or dashes,
    conts: list[Any] = []  # their dict or list,
    ismap: list[bool] = []  # whether that is a mapping,
    outs: list[Outline] = []  # and their outlines
    # (container, key, column, is a sequence item, the container's outline): an entry whose value is still to come
    pending: tuple[Any, Any, int, bool, Outline] | None = None
    last: tuple[Any, Any, str, int, int] | None = None  # the last one-line value: (container, key, its text,
    records = _RECORDS                                  # the column of its key or dash, its line)
    i, n = lo, len(lines) if hi is None else hi
    while i < n:
        line = lines[i]
        i += 1
        rec = records.get(line)
        if rec is None:
            rec = _record(line)
            if len(records) < CACHE_LIMIT and len(line) <= CACHED_CHARS:
                records[line] = rec
        if rec is _BLANK:
            continue  # a blank line (even inside a plain scalar)
        if rec is _COMMENT:
            last = None  # a comment ends a plain scalar
            continue
        col, dlen, key, v, rest, _ = rec
        if last is not None:
            if col > last[3]:
                last = _continued(last, lines, i - 1)  # a plain scalar continued on this line
                continue
            last = None
        if v is _BARE or v is _DOC_START_LINE:  # neither dash nor key
            if pending is not None and col > pending[2]:  # a value on the line below its key or dash
                pcont, pkey = pending[0], pending[1]
                v = _value(rest)
                if v is _NESTED or v.__class__ is _Below:
                    raise _Unsure
                pcont[pkey] = list(v) if v.__class__ is tuple else {} if v is _EMPTY_MAP else v
                pending[4].append((i - 1,))
                last = (pcont, pkey, rest, pending[2], i - 1)
                pending = None
                continue
            if v is _BARE:
                raise _Unsure  # `...`, a directive, a scalar of its own, text after `---`, or an odd line
            if started or root is not None:
                docs.append(root)
                outlines.append(outs[0] if root is not None else None)
            root, started, pending = None, True, None
            continue
        isdash = dlen > 0
        if pending is not None:
            pcont, pkey, pcol, pitem, pout = pending
            pending = None
            if col > pcol or (isdash and col == pcol and not pitem):  # nested, or a sequence at its key's column
                new: Any = [] if isdash else {}
                pcont[pkey] = new
                out: Outline = [i - 1, col, not isdash]
                pout.append(out)
                cols.append(col)
                conts.append(new)
                ismap.append(not isdash)
                outs.append(out)
                if len(cols) > MAX_DEPTH:
                    raise _Unsure
        if root is None:
            if col:
                raise _Unsure
            root = [] if isdash else {}
            cols, conts, ismap, outs = [0], [root], [not isdash], [[i - 1, 0, not isdash]]
        while True:  # close the blocks this line is not in
            top = cols[-1]
            if top == col and ismap[-1] != isdash:
                break
            if top < col:
                raise _Unsure  # indented further than any open block
            cols.pop()
            conts.pop()
            ismap.pop()
            outs.pop()
            if not cols:
                raise _Unsure
        if v is _BAD or key is _BAD:
            raise _Unsure
        out = outs[-1]
        out.append(i - 1)
        if isdash:
            seq = conts[-1]
            if key is _NO_KEY:
                if v is _NESTED:
                    seq.append(None)
                    pending = (seq, len(seq) - 1, col, True, out)
                elif v.__class__ is _Below:
                    value, i = v.read(v.match, lines, i, col)
                    seq.append(value)
                else:
                    seq.append(list(v) if v.__class__ is tuple else {} if v is _EMPTY_MAP else v)
                    last = (seq, len(seq) - 1, rest, col, i - 1)
                continue
            mapping: dict[Any, Any] = {}
            seq.append(mapping)
            col += dlen
            item: Outline = [i - 1, col, True, i - 1]  # a mapping whose first key is on this line, after the dash
            out.append(item)
            out = item
            cols.append(col)
            conts.append(mapping)
            ismap.append(True)
            outs.append(out)
            if len(cols) > MAX_DEPTH:
                raise _Unsure
        else:
            mapping = conts[-1]
        if key in mapping:
            raise _Unsure  # a repeated key: the reader's own checks report it
        if v is _NESTED:
            mapping[key] = None
            pending = (mapping, key, col, False, out)
        elif v.__class__ is _Below:
            mapping[key], i = v.read(v.match, lines, i, col)
        else:
            mapping[key] = list(v) if v.__class__ is tuple else {} if v is _EMPTY_MAP else v
            last = (mapping, key, rest, col, i - 1)
    if started or root is not None:
        docs.append(root)
        outlines.append(outs[0] if root is not None else None)
    return docs, outlines


def _continued(last: tuple[Any, Any, str, int, int], lines: list[str], at: int) -> tuple[Any, Any, str, int, int] | None:
    """A plain scalar that goes on at line `at`: its value set anew, and what is known of it now.

    libyaml folds the lines of a plain scalar: one line break becomes a space, and n + 1 of them (blank lines
    between) n newlines. A comment ends the scalar (then no line may continue it); `: ` would start a mapping.
    """
    cont, key, text, col, line = last
    if text[0] in _NOT_PLAIN_START or " #" in text:
        raise _Unsure  # not a plain scalar, or one that a comment has ended
    body = lines[at].lstrip(" ")
    more = cut(body)
    if ": " in more or more[-1] == ":":
        raise _Unsure
    text = text.rstrip(" ") + fold(at - line - 1) + more
    cont[key] = _resolved(text)
    return None if " #" in body else (cont, key, text, col, at)


def cut(s: str) -> str:
    """A plain scalar's text on one line: up to a comment, without trailing spaces."""
    at = s.find(" #")
    return (s if at < 0 else s[:at]).rstrip(" ")


def fold(blanks: int) -> str:
    """What libyaml makes of a line break inside a plain or quoted scalar, with `blanks` blank lines after it (the
    spaces around it go): one line break becomes a space, n + 1 of them n newlines."""
    return " " if not blanks else "\n" * blanks


def _key(raw: str) -> Any:
    c = raw[0]
    if c == '"' or c == "'":
        return raw[1:-1]  # the pattern lets no escape and no '' into a quoted key
    return _resolved(raw.rstrip(" "))


def _resolved(s: str) -> Any:
    """A plain scalar's value: YAML 1.1's string, null, bool, int, float or timestamp."""
    tag = tag_of(ScalarNode, s, _PLAIN)
    if tag == _STR:
        return s
    if tag in _CACHED or tag == _TIMESTAMP:
        return _plain_scalar(tag, s)
    raise _Unsure  # `<<` (a merge key), `=`


def _value(s: str) -> Any:
    """A value that starts on this line after a colon or dash: a scalar, `[...]` (a tuple), `{}` (_EMPTY_MAP),
    _NESTED (a comment: the value is below), or _Below (a block scalar, a quoted scalar over several lines)."""
    c = s[0]
    if c == "#":
        return _NESTED
    if c == '"' or c == "'":
        one_line, opened, unquote = _QUOTED[c]
        m = one_line.match(s)
        if m is not None:
            return unquote(m.group(1))
        m = opened.match(s)
        if m is None:
            raise _Unsure
        return _Below(_quoted_lines, m)
    if c == "[" or c == "{":
        if _EMPTY_FLOW.match(s):
            return () if c == "[" else _EMPTY_MAP
        m = _FLOW_SEQ.match(s) if c == "[" else None
        if m is None:
            raise _Unsure
        return _flow_items(m.group(1))
    if c == "|" or c == ">":
        m = _BLOCK_HEADER.match(s)
        if m is None:
            raise _Unsure
        return _Below(_block_scalar, m)
    return _plain_value(s)


def _plain_value(s: str) -> Any:
    s = cut(s)
    c = s[0]
    if c in _NOT_PLAIN_START or (c in "-?:" and (len(s) == 1 or s[1] == " ")) or ": " in s or s[-1] == ":":
        raise _Unsure  # an indicator, or a mapping inside a value (an error libyaml words better)
    return _resolved(s)


def _unescape(s: str) -> str:
    if "\\" not in s:
        return s
    if not _ESCAPED.fullmatch(s):
        raise _Unsure  # an escape libyaml refuses
    return _ESCAPE.sub(_escaped, s)


def _single_quoted(s: str) -> str:
    return s.replace("''", "'")


# for each quote: its scalar on one line, its scalar opened on this line (and closed below), and the value of a text
_QUOTED = {'"': (_DQ, _DQ_OPEN, _unescape), "'": (_SQ, _SQ_OPEN, _single_quoted)}


def _escaped(m: re.Match[str]) -> str:
    simple, *codes = m.groups()
    if simple is not None:
        return _ESCAPES[simple]
    code = int(next(c for c in codes if c is not None), 16)
    if 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        raise _Unsure  # libyaml refuses these
    return chr(code)


def _flow_items(inner: str) -> tuple[Any, ...]:
    """The items of a one-line flow sequence of scalars (a tuple: values are remembered, and copied on use)."""
    items = []
    pos = 0
    while pos < len(inner):
        m = _FLOW_ITEM.match(inner, pos)
        if m is None or m.end() == pos:
            raise _Unsure
        pos = m.end()
        item = m.group(1)
        items.append(_value(item) if item[0] in "\"'" else _plain_value(item))
    return tuple(items)


def _quoted_lines(m: re.Match[str], lines: list[str], i: int, col: int) -> tuple[str, int]:
    """(value, next line) of a quoted scalar opened on line i - 1 and closed on a line below.

    Its lines must be indented past `col` (the spec's rule; libyaml does not check it, so both read what is
    accepted here). libyaml folds them as it folds a plain scalar's: the spaces around each line break go, one
    line break becomes a space, n + 1 of them (blank lines between) n newlines.
    """
    single = m.string[0] == "'"
    close, middle = (_SQ_CLOSE, _SQ_MIDDLE) if single else (_DQ_CLOSE, _DQ_MIDDLE)
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
            raise _Unsure
        end = close.match(body)
        text += fold(blanks)
        blanks = 0
        if end is not None:
            text += end.group(1)
            return (_single_quoted(text) if single else text), i
        if middle.match(body) is None:
            raise _Unsure
        text += body.rstrip(" ")
    raise _Unsure  # not closed


def _block_scalar(m: re.Match[str], lines: list[str], i: int, col: int) -> tuple[str, int]:
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
            raise _Unsure
        first = lines[j]
        indent = len(first) - len(first.lstrip(" "))
        if any(len(lines[k]) > indent for k in range(i, j)) or indent <= col:
            raise _Unsure  # an empty scalar, or a blank line that would set the indentation
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
        raise _Unsure
    if chomp != "-":
        chunks.append(leading_break)
    if chomp == "+":
        chunks.append("\n" * trailing)
    value = "".join(chunks)
    return value, i
