"""Plaintext credentials: how they are recognised (`detect`), where they are (`locate`), and the fixes that move
them (`move`, `files`). The check that reports them is `kharden.checks.secrets`."""

from __future__ import annotations

from typing import Iterable

from kharden.model import Finding


def redact(diff: str, findings: Iterable[Finding]) -> str:
    """A unified diff with every credential a fix moved masked on its removed lines: the diff shows where the
    literal was, never what it was (`kharden fix --move-secrets --diff` in a CI log)."""
    from kharden.secrets.locate import mask

    pieces = sorted({p for f in findings for v in f.extra.get("redact", ()) for p in _pieces(v)}, key=len, reverse=True)
    if not pieces:
        return diff
    lines = diff.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith("-") and not line.startswith("---"):
            for p in pieces:
                if p in line:
                    line = line.replace(p, mask(p))
            lines[i] = line
    return "".join(lines)


def _pieces(value: str) -> list[str]:
    """The value, or for a multi-line one (a PEM key, a config file) each of its lines long enough to matter."""
    if "\n" not in value.strip():
        return [value.strip()] if value.strip() else []
    return [ln.strip() for ln in value.splitlines() if len(ln.strip()) >= 8]
