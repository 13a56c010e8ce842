"""Splice edits into the original text: the faithful YAML output.

kharden never re-emits a document. For each document that changed, it walks the original node tree along the paths
the changes touched and compares it with the document's final value, producing minimal text edits:

    containers:                      containers:
    - name: web                      - name: web
      image: nginx   # pinned   ->     image: nginx   # pinned
                                       securityContext:
                                         allowPrivilegeEscalation: false

Everything else (comments, quoting, key order, indentation, anchors, CRLF, BOM) is the original text, byte for
byte. The result is re-parsed and compared with the intended values; a document that does not come back exactly
(for instance an edit inside content shared through a YAML alias) is reported as an error rather than written.
"""

from __future__ import annotations

from typing import Any, Collection, Iterable

import yaml

from kharden.errors import InputError, InternalError
from kharden.model import Change, Path
from kharden.read import Document, Source, merge, parse_text, trees
from kharden.read.trees import content_end as _content_end, is_flow as _is_flow
from kharden.render import emit
from kharden.render.chomping import last_scalar as last_scalar, strip_chomping as strip_chomping  # kharden.run too
from kharden.render.emit import Style

Edit = tuple[int, int, str]  # replace text[start:end] with the string
Touched = dict[Any, "Touched"]  # paths as a tree of their keys


def render(source: Source, changes: Iterable[Change]) -> str:
    """The source's text with the changes applied (kharden.render.fastverify renders and verifies in one go)."""
    text = source.text
    edits = [e for doc in doc_edits(source, changes).values() for e in doc]
    out = _apply(text, _relocate_insertions(text, edits))
    return ("\ufeff" if source.bom else "") + out


def doc_edits(source: Source, changes: Iterable[Change]) -> dict[int, list[Edit]]:
    """The text edits of each changed document (kharden.render.fastverify re-reads just those documents)."""
    by_doc: dict[int, list[Path]] = {}
    for c in changes:
        by_doc.setdefault(c.obj.doc, []).append(c.obj.base + c.path)
    return {i: _DocSplicer(source.docs[i], source.text, paths, source.newline).edits() for i, paths in by_doc.items()}


def verify(source: Source, text: str, only: Collection[int] | None = None) -> None:
    """Re-parse the output and compare every document with its intended value (`only`: those documents, and how
    many there are; the others were read back already and let go: kharden.pipeline.finish)."""
    try:  # limits guard input, not kharden's output
        again = parse_text(text[1:] if source.bom else text, source.path, size_limit=False)
    except InputError as e:  # the input was read; it is kharden's edit that does not read
        raise InternalError(
            f"internal error: an edit could not be placed safely, the edited text does not read ({e.message}); "
            "nothing was written (please report this with the input)",
            file=source.path, doc=e.doc,
        ) from None
    want = [d.data for d in source.docs]
    got = [d.data for d in again.docs]
    same_count = len(got) == len(want)
    compared = sorted(only) if only is not None and same_count else range(min(len(got), len(want)))
    if not same_count or any(got[i] != want[i] for i in compared):
        bad = next((i for i in compared if got[i] != want[i]), min(len(got), len(want)))
        raise InternalError(
            "internal error: the edited text does not read back as intended; nothing was written "
            "(please report this with the input)",
            file=source.path,
            doc=bad,
        )


def _apply(text: str, edits: list[Edit]) -> str:
    """The text with the edits made (edits as `_relocate_insertions` leaves them)."""
    # Stable sort: edits at the same position keep the order they were made in.
    parts: list[str] = []
    pos = 0
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos:
            raise InternalError("internal error: overlapping edits")
        parts += [text[pos:start], new]
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _relocate_insertions(text: str, edits: list[Edit]) -> list[Edit]:
    """An insertion at the end of a line that is being deleted moves to the end of the line before it.

    (Removing the last entry of a mapping and adding an entry after it, e.g. an enforced hostPort removal followed
    by a new securityContext, puts both at the same place.)
    """
    deletions = sorted((s, e) for s, e, new in edits if new == "" and e > s)
    if not deletions:
        return edits
    out = []
    for start, end, new in edits:
        if start == end:
            moved = True
            while moved:
                moved = False
                for s, e in deletions:
                    if s <= start < e and s > 0 and new.startswith(("\n", "\r\n")):
                        start = end = s - 2 if text[s - 2 : s] == "\r\n" else s - 1
                        moved = True
        out.append((start, end, new))
    return out


class _DocSplicer:
    """Minimal edits turning one document's original text into its final value, along the touched paths."""

    def __init__(self, doc: Document, text: str, paths: list[Path], newline: str) -> None:
        self.doc = doc
        self.text = text
        self.nl = newline
        self.touched: Touched = {}  # the touched paths as a tree: each key of a path -> the keys under it
        for p in paths:
            t = self.touched
            for k in p:
                t = t.setdefault(k, {})
        self.style = _detect_style(doc, text)
        self.out: list[Edit] = []

    def edits(self) -> list[Edit]:
        if self.doc.node is None:
            raise InternalError("internal error: cannot edit an empty document", file=self.doc.path)
        self._visit(self.doc.node, self.doc.data, self.touched, None, self.style.json)
        return self.out

    # -- walking ---------------------------------------------------------------------------------------------
    def _visit(self, node: yaml.Node, value: Any, touched: Touched, key_node: yaml.Node | None, flow: bool) -> None:
        if isinstance(node, yaml.MappingNode) and isinstance(value, dict) and (node.value or not value or flow):
            self._mapping(node, value, touched, key_node, flow)
        elif isinstance(node, yaml.SequenceNode) and isinstance(value, list) and (node.value or not value or flow):
            self._sequence(node, value, touched, key_node, flow)
        elif not (isinstance(node, yaml.ScalarNode) and _same_scalar(node, value)):
            self._replace(node, value, key_node, flow)

    def _mapping(self, node: yaml.MappingNode, value: dict[Any, Any], touched: Touched, key_node: Any,
                 flow: bool) -> None:
        inner_flow = flow or _is_flow(node) or self.style.json
        present = trees.entries(node)
        gone = [k for k in present if k not in value and k in touched]
        if gone and (inner_flow or len(gone) == len(present) or any(_after_dash(self.text, present[k][0]) for k in gone)):
            self._replace(node, value, key_node, inner_flow)  # not whole lines of their own: rewrite the mapping
            return
        for k in gone:
            self._delete_entry(*present[k])
        for k, under in touched.items():
            if k in value and k in present:
                k_node, v_node = present[k]
                self._visit(v_node, value[k], under, k_node, inner_flow)
        # A key the mapping takes from `<<: *anchor` is written as its own key (which overrides the merged one)
        # only when its value changed: the anchored mapping is another object's, never edited for this one.
        inherited = merge.inherited(node) if len(present) < len(node.value) else {}
        new = {k: v for k, v in value.items() if k not in present and (k not in inherited or inherited[k] != v)}
        if new:
            self._insert_entries(node, new, inner_flow)

    def _sequence(self, node: yaml.SequenceNode, value: list[Any], touched: Touched, key_node: Any, flow: bool) -> None:
        inner_flow = flow or _is_flow(node) or self.style.json
        n = len(node.value)
        if len(value) < n:  # items removed (rare: enforced removals): rewrite the sequence as a whole
            self._replace(node, value, key_node, inner_flow)
            return
        for i, under in touched.items():
            if i.__class__ is int and 0 <= i < n:
                self._visit(node.value[i], value[i], under, None, inner_flow)
        if len(value) > n:
            self._insert_items(node, value[n:], inner_flow)

    # -- edits -----------------------------------------------------------------------------------------------
    def _replace(self, node: yaml.Node, value: Any, key_node: yaml.Node | None, flow: bool) -> None:
        """Replace a whole node by the rendering of value (a scalar, null -> mapping, {} -> mapping, ...)."""
        start, end = node.start_mark.index, _content_end(node, self.text)
        if isinstance(node, yaml.ScalarNode) and not isinstance(value, (dict, list)):
            quote = node.style if node.style in ("'", '"') and isinstance(value, str) else None
            self.out.append((start, end, emit.scalar(value, self.style.json, quote)))
        elif self.style.json:
            lines = emit.json_block(value, _line_indent(self.text, start), self.style.indent)
            self.out.append((start, end, lines[0].lstrip() + "".join(self.nl + ln for ln in lines[1:])))
        elif flow or not isinstance(value, (dict, list)) or not value:
            text = emit.inline(value, self.style)
            if key_node is not None and not flow and key_node.start_mark.line < node.start_mark.line:
                colon = self.text.index(":", key_node.end_mark.index) + 1
                self.out.append((colon, end, " " + text))
            else:
                self.out.append((start, end, text))
        elif key_node is not None:
            # Block content goes on the lines after the key: drop whatever followed the colon.
            step = self.style.indent if isinstance(value, dict) else self.style.seq_indent
            lines = emit.block(value, key_node.start_mark.column + step, self.style)
            colon = self.text.index(":", key_node.end_mark.index) + 1
            if key_node.start_mark.line == node.start_mark.line:
                self.out.append((colon, end, ""))
                self._insert_lines_at_line_end(end, lines)
            else:
                self.out.append((colon, end, "".join(self.nl + ln for ln in lines)))
        else:  # a sequence item or the document itself: content starts where the node starts
            col = node.start_mark.column
            lines = emit.block(value, col, self.style)
            self.out.append((start, end, lines[0][col:] + "".join(self.nl + ln for ln in lines[1:])))

    def _insert_entries(self, node: yaml.MappingNode, new: dict[Any, Any], flow: bool) -> None:
        if flow:
            self._insert_flow(node, [f"{emit.key(k, self.style.json)}: " for k in new], list(new.values()))
            return
        col = node.value[0][0].start_mark.column
        lines = emit.block(new, col, self.style)
        self._insert_lines_at_line_end(_content_end(node, self.text), lines)

    def _insert_items(self, node: yaml.SequenceNode, items: list[Any], flow: bool) -> None:
        if flow:
            self._insert_flow(node, ["" for _ in items], items)
            return
        dash = self.text.rindex("-", 0, node.value[0].start_mark.index)
        col = dash - self.text.rfind("\n", 0, dash) - 1
        lines = emit.block(items, col, self.style)
        self._insert_lines_at_line_end(_content_end(node, self.text), lines)

    def _insert_flow(self, node: yaml.Node, heads: list[str], values: list[Any]) -> None:
        close = node.end_mark.index - 1  # the closing bracket
        empty = not node.value
        multiline = node.start_mark.line != node.end_mark.line and not empty
        if multiline:
            last = node.value[-1]
            last_start = (last[0] if isinstance(last, tuple) else last).start_mark
            col = last_start.column
            end = _content_end(node.value[-1][1] if isinstance(last, tuple) else last, self.text)
            parts = []
            for head, v in zip(heads, values):
                rendered = (
                    emit.json_block(v, col, self.style.indent or 2) if self.style.json else [emit.inline(v, self.style)]
                )
                first = " " * col + head + rendered[0].lstrip()
                parts.append("," + self.nl + self.nl.join([first] + rendered[1:]))
            self.out.append((end, end, "".join(parts)))
            return
        rendered = [head + emit.inline(v, self.style) for head, v in zip(heads, values)]
        self.out.append((close, close, ("" if empty else ", ") + ", ".join(rendered)))

    def _delete_entry(self, k_node: yaml.Node, v_node: yaml.Node) -> None:
        """Delete a block mapping entry: its whole lines, from the key's line to its value's last line."""
        start = self.text.rfind("\n", 0, k_node.start_mark.index) + 1
        content_end = _content_end(v_node, self.text)
        if self.text[content_end - 1] == "\n":  # a block scalar ends after its own line break
            self.out.append((start, content_end, ""))
            return
        end = _line_end(self.text, content_end)
        self.out.append((start, min(end + 1, len(self.text)), ""))

    def _insert_lines_at_line_end(self, pos: int, lines: list[str]) -> None:
        text = self.text
        if pos > 0 and text[pos - 1] == "\n":  # a block scalar ends after its line break
            self.out.append((pos, pos, "".join(ln + self.nl for ln in lines)))
            return
        at = _line_end(text, pos)
        if at > 0 and text[at - 1] == "\r":
            at -= 1
        if at == len(text) and self.doc.node is not None:  # the text ends without a line break: if in a block
            strip = strip_chomping(last_scalar(self.doc.node), text)  # scalar, it would take the one added here
            if strip is not None and strip not in self.out:  # once, however many insertions end the text
                self.out.append(strip)
        self.out.append((at, at, "".join(self.nl + ln for ln in lines)))


def _detect_style(doc: Document, text: str) -> Style:
    """The indentation habits of this document: a nested mapping's step, a block sequence's dash offset."""
    indent, seq, is_json = trees.indentation(doc.node, text)
    return Style(indent=max(indent or 2, 1), seq_indent=max(seq or 0, 0), json=is_json)


def _same_scalar(node: yaml.ScalarNode, value: Any) -> bool:
    if isinstance(value, (dict, list)):
        return False
    old = yaml.constructor.SafeConstructor().construct_object(node)
    return type(old) is type(value) and old == value


def _line_end(text: str, pos: int) -> int:
    at = text.find("\n", pos)
    return len(text) if at < 0 else at


def _line_indent(text: str, pos: int) -> int:
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return len(line) - len(line.lstrip(" "))


def _after_dash(text: str, k_node: yaml.Node) -> bool:
    start = text.rfind("\n", 0, k_node.start_mark.index) + 1
    return text[start : k_node.start_mark.index].strip() != ""
