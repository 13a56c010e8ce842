"""A long stream read a range of documents at a time, each exactly as reading the whole stream would read it.

`kharden.read.documents` already cuts a stream at its `---` lines and reads each piece on its own (a `---` line at
column 0 ends whatever came before it). Here that cut is made without reading anything: each piece after a `---` is
one document, so document `i` is known to lie in piece `i` (or `i + 1` when text before the first `---` holds no
document), and a range of documents can be read when it is needed and let go after (kharden.pipeline.finish).
Their node trees are in the stream's coordinates (lines, offsets) and their indexes are the stream's.

Only a stream that is plainly cut is read this way: no directive, no lone CR, no `...` document end (a document may
follow it without a `---`). `read` answers None where a range does not read as one document per piece (an empty
document, an error): the caller then reads the whole stream as before, and its errors are the reader's own.
"""

from __future__ import annotations

import bisect
import re
from array import array
from dataclasses import dataclass
from typing import Any

from kharden.read import documents, positions
from kharden.read.documents import Read
from kharden.read.leaves import Lines
from kharden.read.limits import MAX_SCALAR_CHARS
from kharden.read.subset import has_odd

RANGE = 256  # documents read together: the declined ones in one libyaml pass (a pass each cost more than reading)

_START = re.compile(r"^---(?=[ \t]|\r?\n|\Z)", re.M)
_END = re.compile(r"^\.\.\.(?=[ \t]|\r?\n|\Z)", re.M)
_CONTENT = re.compile(r"^[ \t]*[^ \t\r\n#]", re.M)


@dataclass
class Pieces:
    """Where each document of a stream is: lines [lo, hi) of piece `i + skip` hold document `i`."""

    text: str
    path: str
    bounds: list[tuple[int, int]]  # each piece's lines, from a `---` line (or the stream's start) to the next
    skip: int  # 1 when the text before the first `---` holds no document
    shared: positions.Text  # the stream's lines, which every node tree made from an outline reads
    odd: bool  # the stream has a character kharden.read.subset leaves to libyaml: each piece is looked at
    big: bool

    def __len__(self) -> int:
        return len(self.bounds) - self.skip

    def text_of(self, docs: range) -> str:
        """The text of the documents `docs` (from the `---` line of the first to the end of the last)."""
        if not docs:
            return ""
        lo, hi = self.bounds[docs.start + self.skip][0], self.bounds[docs.stop - 1 + self.skip][1]
        return self.text[self.shared.offset(lo):self.shared.offset(hi)]

    def offset_of(self, doc: int) -> int:
        """Where document `doc`'s piece starts in the text (its `---` line)."""
        return self.shared.offset(self.bounds[doc + self.skip][0])

    def read(self, docs: range) -> list[Read] | None:
        """The documents `docs`, in order; None where they do not read as one document per piece."""
        pieces = [self.bounds[i + self.skip] for i in docs]
        if not pieces:
            return []
        piece = self.text_of(docs)
        lines = [""] * pieces[0][0] + (piece.replace("\r\n", "\n") if "\r" in piece else piece).split("\n")
        parts = [documents.piece(lines, a, b, self.odd, self.big) for a, b in pieces]
        declined = [p for p in parts if p.values is None]
        by_libyaml = documents.by_libyaml(self.shared, declined, self.path) if declined else {}
        if by_libyaml is None:
            return None
        out: list[Read] = []
        for p in parts:
            read = by_libyaml[p.lo] if p.values is None else [
                (positions.root(self.shared, o), v, False) for v, o in zip(p.values, p.outlines or ())]
            if len(read) != 1:
                return None
            out += read
        return out


def cut(text: str, path: str) -> Pieces | None:
    """The stream's pieces, nothing read; None where it is not plainly cut into one document per piece."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    if text.startswith("%") or "\n%" in text or _END.search(text):
        return None
    lines = _lines(text)
    starts = [bisect.bisect_right(lines.starts, m.start()) - 1 for m in _START.finditer(text)]
    bounds = ([0] if not starts or starts[0] else []) + starts + [len(lines)]
    pieces = list(zip(bounds, bounds[1:]))
    skip = 0
    if pieces and (not starts or starts[0]):  # text before the first `---`: a document only if it has content
        head = text[:lines.starts[pieces[0][1]] if pieces[0][1] < len(lines) else len(text)]
        skip = 0 if _CONTENT.search(head) else 1
    return Pieces(text, path, pieces, skip, positions.Text(lines, text), has_odd(text), len(text) > MAX_SCALAR_CHARS)


def _lines(text: str) -> Lines:
    """The text's lines, their starts found without a list of every line (that list would cost more than the
    documents of one range)."""
    starts = array("q", [0])
    find, at = text.find, text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = find("\n", at + 1)
    starts.append(len(text) + 1)
    lines: Any = Lines.__new__(Lines)
    lines.text, lines.starts = text, starts
    return lines  # type: ignore[no-any-return]  # a Lines
