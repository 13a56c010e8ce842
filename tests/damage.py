"""Corpus texts with lines damaged: what the property tests feed kharden's readers to see them refuse or agree."""

from __future__ import annotations

from tests.conftest import corpus_files

Edit = tuple[str, int, int, str]  # (operation, which line, where in it or which other line, the token to put in)


def corpus_texts() -> list[str]:
    """The corpus files small enough for a property test to use one per example."""
    return [p.read_text(encoding="utf-8") for p in corpus_files() if p.stat().st_size < 50_000]


def damage(text: str, edits: list[Edit]) -> str:
    """`text` with each edit made to its lines: delete, repeat another line, insert the token, indent by one or two
    spaces, dedent by one, set the value after `: ` to the token, or join with the next line through the token."""
    lines = text.split("\n")
    for op, at, where, token in edits:
        i = at % len(lines)
        line = lines[i]
        if op == "delete" and len(lines) > 1:
            del lines[i]
        elif op == "repeat":
            lines.insert(i, lines[where % len(lines)])
        elif op == "insert":
            j = where % (len(line) + 1)
            lines[i] = line[:j] + token + line[j:]
        elif op == "indent":
            lines[i] = " " * (1 + where % 2) + line
        elif op == "dedent":
            lines[i] = line[1:]
        elif op == "value" and ": " in line:
            lines[i] = line.split(": ", 1)[0] + ": " + token
        elif op == "join" and i + 1 < len(lines):
            lines[i : i + 2] = [line + token + lines[i + 1]]
    return "\n".join(lines)
