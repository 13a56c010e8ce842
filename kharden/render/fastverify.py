"""Render a source and verify it by re-reading only the documents that changed.

`splice.verify` re-parses the whole output. But the splicer only edits inside the documents it changes: every other
document, and everything between documents (`---`, `...`, directives, comments), is the input text, byte for byte,
so it reads back as it read the first time. This module checks exactly that, then re-reads each changed document
on its own (from the start of its first line to the end of its last line) and compares it with its intended value:

    ---            <- unchanged: not re-read
    kind: Service
    ---
    kind: Deployment   <- changed: this span of the output is parsed alone and compared
    spec: ...
    ---

Whenever anything is not plainly so (an edit crossing a document's span, a span that does not read back as exactly
one document, a document without a node tree), it falls back to `splice.verify` on the whole output, so the
guarantee and the error are those of `splice.verify`.
"""

from __future__ import annotations

import bisect
from typing import Iterable

from kharden.errors import KhardenError
from kharden.model import Change
from kharden.read import Document, Source, parse_text
from kharden.render import splice

Edit = splice.Edit


def render_verified(source: Source, changes: Iterable[Change]) -> str:
    """`splice.render(source, changes)`, verified as `splice.verify` verifies it, at the cost of the changed docs."""
    text = source.text
    by_doc = splice.doc_edits(source, changes)
    edits = [e for doc_edits in by_doc.values() for e in doc_edits]
    out = splice._apply(text, edits)
    full = ("\ufeff" if source.bom else "") + out
    if not _changed_docs_read_back(source, out, sorted(by_doc), splice._relocate_insertions(text, edits)):
        splice.verify(source, full)
    return full


def _span(doc: Document, text: str) -> tuple[int, int] | None:
    """[first line start, last line end + line break) of a document's content in the input text."""
    if doc.node is None:
        return None
    start = text.rfind("\n", 0, doc.node.start_mark.index) + 1
    end = splice._content_end(doc.node, text)
    if not (end > 0 and text[end - 1] == "\n"):  # a block scalar ends after its line break already
        end = min(len(text), splice._line_end(text, end) + 1)
    return start, end


def _changed_docs_read_back(source: Source, out: str, changed: list[int], edits: list[Edit]) -> bool:
    """True when every edit lies inside a changed document and each of those reads back alone as intended."""
    spans = []
    for i in changed:
        span = _span(source.docs[i], source.text)
        if span is None:
            return False
        spans.append((i, *span))
    shifted = _output_spans(spans, edits)
    if shifted is None:
        return False
    for i, start, end in shifted:
        try:
            again = parse_text(out[start:end], source.path)
        except KhardenError:
            return False
        if len(again.docs) != 1 or again.docs[0].data != source.docs[i].data:
            return False
    return True


def _output_spans(spans: list[tuple[int, int, int]], edits: list[Edit]) -> list[tuple[int, int, int]] | None:
    """Each span moved to output coordinates; None if some edit is not wholly inside one of the spans."""
    starts = [a for _, a, _ in spans]
    growth = [0] * len(spans)
    for s, e, new in edits:
        k = bisect.bisect_right(starts, s) - 1
        if k < 0 or e > spans[k][2]:
            return None  # outside every changed document: not the splicer's habit, so check everything
        growth[k] += len(new) - (e - s)
    out, before = [], 0
    for (i, a, b), g in zip(spans, growth):
        out.append((i, a + before, b + before + g))
        before += g
    return out
