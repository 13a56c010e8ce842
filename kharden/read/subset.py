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
corpus, kharden's own output and generated texts (tests/test_subset.py). This module reads the lines and blocks;
kharden.read.scalars the value after a colon or dash; kharden.read.documents calls it one document at a time.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from kharden.read.limits import MAX_DEPTH, MAX_SCALAR_CHARS
from kharden.read.scalars import (  # the loop below looks them up as globals: fast, and named as before
    EMPTY_MAP as _EMPTY_MAP, NESTED as _NESTED, NOT_PLAIN_START as _NOT_PLAIN_START, Below as _Below,
    Unsure as _Unsure, cut, fold, read_key as _key, read_value as _value, resolved as _resolved,
)

# Everything libyaml reads as plain text: printable, no tab, no line break but \n (a CR before \n goes first), no BOM.
_ODD = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# The same for ASCII text, as a table that deletes those characters: translating is 4x as fast as searching.
_ASCII_ODD = str.maketrans("", "", "".join(map(chr, [*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F])))
# One line: indentation, a sequence entry's dash, a mapping key and its colon, and the rest of the line.
_LINE = re.compile(
    r"""^( *)(-(?: +|$))?(?:([^\s#'"\[\]{},&*!|>%@`?:-][^:#\n]*|"[^"\\\n]*"|'[^'\n]*'):(?: +|$))?(.*)$""", re.M)
_DOC_START = re.compile(r"---(?: +#.*)? *$")

# Lines remembered with what they say (_RECORDS), short ones only: at most CACHE_LIMIT of them, each at most
# CACHED_CHARS long, so that hostile input cannot make the table large (at most about 10 MB).
CACHE_LIMIT = 20_000
CACHED_CHARS = 200


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
    if has_odd(text):
        return None
    lines = text.split("\n")
    try:
        values, outlines = documents(lines)
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


def has_odd(text: str) -> bool:
    """Whether the text has a character this reader leaves to libyaml (_ODD)."""
    if text.isascii():
        return len(text.translate(_ASCII_ODD)) != len(text)
    return _ODD.search(text) is not None


def documents(lines: list[str], lo: int = 0, hi: int | None = None) -> tuple[list[Any], list[Outline | None]]:
    """The values of the documents on lines [lo, hi) of `lines` (all of them by default), and the outline of each.

    One loop over the lines, with the open blocks on a stack: a line's indentation says which block it belongs to,
    its dash or key what it adds there.
    Complexity: one long function on purpose, a branch per kind of line: it runs once per line of every manifest,
    and every call it does not make is time saved.

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


