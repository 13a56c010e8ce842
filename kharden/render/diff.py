"""Unified diff of a file's text before and after."""

from __future__ import annotations

import difflib


def unified(path: str, before: str, after: str) -> str:
    if before == after:
        return ""
    label = "<stdin>" if path == "-" else path
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{label}", f"b/{label}"
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)
