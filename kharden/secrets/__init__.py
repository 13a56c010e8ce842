"""Plaintext credentials: how they are recognised (`detect`), where they are (`locate`), and the fixes that move
them (`move`, `files`). The check that reports them is `kharden.checks.secrets`."""

from __future__ import annotations

from typing import Iterable

from kharden.model import Finding


def redact(diff: str, findings: Iterable[Finding]) -> str:
    """A unified diff with every credential found (`extra["redact"]` of the secret findings: those moved and those
    left) masked on every line (a line kharden rewrote, a flow mapping say, may carry a literal it did not move): the
    diff shows where a literal is or was, never what it is (`kharden fix --diff` in a CI log). A masked diff is for
    reading; `fix -i` or `--format jsonpatch` apply the change."""
    from kharden.secrets.locate import mask

    pieces = sorted({p for f in findings for v in f.extra.get("redact", ()) for p in _pieces(v)}, key=len, reverse=True)
    if not pieces:
        return diff
    lines = diff.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if not line.startswith(("---", "+++", "@@")):
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
