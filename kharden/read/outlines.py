"""`Document.line_of` on a tree kharden.read.subset read: the line of a path, found on the document's outline
(kharden.read.subset.Outline) without making a node."""

from __future__ import annotations

from typing import Any, Sequence

from kharden.model import Path
from kharden.read import subset


def line_of(outline: Any, lines: Sequence[str], path: Path, entries: dict[int, Any]) -> int:
    """What line_of answers (0-based), found on the outline (kharden.read.subset.Outline): the line of the last
    mapping key on `path`, or of the sequence item's value, that the text has. The lines are those of the nodes
    kharden.read.positions would make (tests/test_positions.py compares the two)."""
    o, line = outline, outline[0]
    for key in path:
        if o is None:  # a scalar or a one-line flow collection: whatever is inside is on its line
            break
        known = entries.get(id(o))
        if known is None:
            known = entries[id(o)] = _steps(o, lines)
        if known.__class__ is dict:
            step = known.get(key)
        else:
            step = known[key] if isinstance(key, int) and 0 <= key < len(known) else None
        if step is None:
            break
        line, o = step
    return line  # type: ignore[no-any-return]  # an outline's line: an int


def _steps(o: Any, lines: Sequence[str]) -> Any:
    """Each entry of a block's outline as (its line, the outline of its block value or None): by key for a mapping
    (its string keys as the reader read them, the last of a repeated one), in order for a sequence. A mapping
    entry's line is its key's; an item's is where its value starts (below its dash, when it is there)."""
    out = []
    for k in range(3, len(o)):
        if o[k].__class__ is not int:
            continue
        child = o[k + 1] if k + 1 < len(o) and o[k + 1].__class__ is not int else None
        line = o[k] if child is None or o[2] else child[0]
        out.append((k, (line, child if child.__class__ is list else None)))
    if not o[2]:
        return [step for _, step in out]
    keys = [subset.record(lines[o[k]])[2] for k, _ in out]
    return {key: step for key, (_, step) in zip(keys, out) if isinstance(key, str)}
