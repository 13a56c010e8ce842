"""Render a source and verify it by re-reading only the documents that changed.

`splice.verify` re-parses the whole output. But the splicer only edits inside the documents it changes: every other
document, and everything between documents (`---`, `...`, directives, comments), is the input text, byte for byte,
so it reads back as it read the first time. This module checks exactly that, then re-reads the changed documents
(each from the start of its first line to the end of its last line) and compares each with its intended value:

    ---            <- unchanged: not re-read
    kind: Service
    ---
    kind: Deployment   <- changed: this span of the output is re-read and compared
    spec: ...
    ---

Each span is read by kharden.read.subset, which reads the YAML manifests are written in at half libyaml's cost and
answers exactly as libyaml would, or declines. The spans it declines are joined into one stream, each after a `---`
line of its own, and read by libyaml in one pass (one parser instead of one per document: the per-document reader
cost more than the reading itself). A `---` line at column 0 ends whatever block content came before it, as the end
of the text does, so each span reads as it would alone; and the pass must give exactly one document per span, lying
inside that span, or the check fails.

Whenever anything is not plainly so (an edit crossing a document's span, a span that does not read back as exactly
one document with its intended value, a document without a node tree), it falls back to `splice.verify` on the
whole output, so the guarantee and the error are those of `splice.verify`.
"""

from __future__ import annotations

import bisect
import re
from typing import Any, Iterable

from kharden.model import Change
from kharden.read import Document, Source
from kharden.read import fastload, limits, subset, trees
from kharden.render import splice

Edit = splice.Edit

_DOC_START = re.compile(r"---(?:[ \t\r\n]|\Z)")  # a span that starts with its own `---` line needs no other


def render_verified(source: Source, changes: Iterable[Change]) -> str:
    """`splice.render(source, changes)`, verified as `splice.verify` verifies it, at the cost of the changed docs."""
    edits, verified = verified_edits(source, changes)
    full = ("\ufeff" if source.bom else "") + splice._apply(source.text, edits)
    if not verified:
        splice.verify(source, full)
    return full


def verified_edits(source: Source, changes: Iterable[Change]) -> tuple[list[Edit], bool]:
    """The text edits of the changes (their documents' only) and whether the changed documents read back as
    intended. Nothing but the changed documents is read or made, so the pipeline can take a long stream's documents
    a batch at a time (kharden.pipeline.finish): their edits, joined in any order, are the whole text's. When it
    says False, only `splice.verify` of the whole output can tell."""
    changes = list(changes)
    by_doc = splice.doc_edits(source, changes)
    edits = splice._relocate_insertions(source.text, [e for doc_edits in by_doc.values() for e in doc_edits])
    return edits, _changed_docs_read_back(source, sorted(by_doc), edits)


def _span(doc: Document, text: str) -> tuple[int, int] | None:
    """[first line start, last line end + line break) of a document's content in the input text."""
    if doc.node is None:
        return None
    start = text.rfind("\n", 0, doc.node.start_mark.index) + 1
    end = trees.content_end(doc.node, text)
    if not (end > 0 and text[end - 1] == "\n"):  # a block scalar ends after its line break already
        end = min(len(text), splice._line_end(text, end) + 1)
    return start, end


def _changed_docs_read_back(source: Source, changed: list[int], edits: list[Edit]) -> bool:
    """True when every edit lies inside a changed document and each of those reads back as intended.

    The spans are read with the reader's own limits (kharden.read.fastload.read_document: huge scalars, deep
    nesting, unsafe tags, alias bombs and cycles), so a span the reader would refuse does not read back, and
    `splice.verify` (the reader itself) reports it. Only the nesting pre-scan the reader runs before libyaml's
    recursive composer (`limits.check_text`) is not part of building values: a span that could nest that deep is
    left to `splice.verify` too. Output size is not limited: limits guard input.
    """
    spans = []
    for i in changed:
        span = _span(source.docs[i], source.text)
        if span is None:
            return False
        spans.append((i, *span))
    chunks = _output_chunks(source.text, spans, edits)
    if chunks is None:
        return False
    values = _read_all(chunks)
    if values is None:
        return False
    try:
        return all(value == source.docs[i].data for value, (i, _, _) in zip(values, spans))
    except RecursionError:  # a cyclic value (the reader refuses cycles): let splice.verify report it
        return False


def _read_all(chunks: list[str]) -> list[Any] | None:
    """Each chunk's value as libyaml reads it alone; None unless each is one document.

    kharden.read.subset reads the chunks written in the part of YAML it knows (nearly all: the output of a splice
    is the input's text with block lines added), at half libyaml's cost; the others are read by libyaml, in one pass.
    """
    values: list[Any] = []
    rest: list[tuple[int, str]] = []
    for chunk in chunks:
        docs = subset.read_stream(chunk)
        if docs is None:
            rest.append((len(values), chunk))
        elif len(docs) != 1 or docs[0] is None:
            return None
        values.append(docs[0] if docs is not None else None)
    if rest:
        if not all(limits.depth_within(chunk, limits.COMPOSER_SAFE_DEPTH) for _, chunk in rest):
            return None
        read = _read_each([chunk for _, chunk in rest])
        if read is None:
            return None
        for (at, _), value in zip(rest, read):
            values[at] = value
    return values


def _read_each(chunks: list[str]) -> list[Any] | None:
    """Each chunk's value as libyaml reads it alone (YAML 1.1), all in one pass; None unless each is one document.

    Every chunk but the last must end with a line break, so that the `---` put before the next starts a line.
    """
    if not chunks:
        return []
    if any(not c.endswith("\n") for c in chunks[:-1]):
        return None
    parts, bounds, at = [], [], 0
    for chunk in chunks:
        head = "" if _DOC_START.match(chunk) else "---\n"
        parts += [head, chunk]
        at += len(head)
        bounds.append((at, at + len(chunk)))
        at += len(chunk)
    text = "".join(parts)
    loader = fastload.Loader(text)
    facts = fastload.stream_facts(text)
    values: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None or len(values) == len(bounds):
                return None
            start, end = bounds[len(values)]
            if not (start <= node.start_mark.index < node.end_mark.index <= end):
                return None  # not wholly one chunk's, or empty (after `---`; the chunk alone holds no document)
            values.append(loader.construct_document(node, facts))
    except Exception:  # a YAML error, or one the reader raises in its own way: splice.verify reports it
        return None
    finally:
        loader.dispose()
    return values if len(values) == len(bounds) else None


def _output_chunks(text: str, spans: list[tuple[int, int, int]], edits: list[Edit]) -> list[str] | None:
    """Each span's text with its edits made; None if some edit is not wholly inside one of the spans."""
    starts = [a for _, a, _ in spans]
    mine: list[list[Edit]] = [[] for _ in spans]
    for s, e, new in edits:
        k = bisect.bisect_right(starts, s) - 1
        if k < 0 or e > spans[k][2]:
            return None  # outside every changed document: not the splicer's habit, so check everything
        a = spans[k][1]
        mine[k].append((s - a, e - a, new))
    return [splice._apply(text[a:b], own) for (_, a, b), own in zip(spans, mine)]
