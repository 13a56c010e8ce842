"""Parse errors as messages a user can act on: `explain_yaml_error` turns libyaml's messages for tabs and
unrendered templates into advice, and the other helpers locate bad characters (line and column as libyaml counts).
"""

from __future__ import annotations

import re

import yaml

from kharden.errors import InputError

TEMPLATE_ADVICE = "looks like an unrendered template: render it first, e.g. `helm template`"
_LINE_BREAK = re.compile(r"\r\n|\r|\n|\x85|\u2028|\u2029")  # the line breaks libyaml counts


def explain_yaml_error(text: str, e: yaml.MarkedYAMLError) -> tuple[str, int | None, int | None]:
    """(message, 1-based line, column) for a YAML error: unrendered templates and tabs get advice, not jargon."""
    mark = e.problem_mark or e.context_mark
    if mark is None:
        return _generic(e), None, None
    if (e.context or "").startswith("found duplicate anchor") and e.context_mark:
        first = e.context_mark.line + 1
        return f"an anchor is defined twice in one document (first at line {first}): rename one", mark.line + 1, \
            mark.column + 1
    lines = _LINE_BREAK.split(text)
    near = sorted({mark.line, max(mark.line - 1, 0)} | ({e.context_mark.line} if e.context_mark else set()))
    for n in reversed(near):
        if n < len(lines) and "{{" in lines[n]:
            return TEMPLATE_ADVICE, n + 1, lines[n].index("{{") + 1
    line = lines[mark.line] if mark.line < len(lines) else ""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if "\t" in indent:
        return "tab in indentation: YAML indents with spaces only", mark.line + 1, indent.index("\t") + 1
    return _generic(e), mark.line + 1, mark.column + 1


def not_utf8_error(raw: bytes, start: int, path: str) -> InputError:
    """Where the first byte that is not UTF-8 is: 1-based line and character column, as the YAML errors count."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return InputError("not UTF-8 text (UTF-16, by its byte-order mark): convert it to UTF-8", file=path, line=1)
    line_start = raw.rfind(b"\n", 0, start) + 1
    column = len(raw[line_start:start].decode("utf-8", errors="replace")) + 1
    line = raw.count(b"\n", 0, start) + 1
    return InputError(f"not UTF-8 text (byte 0x{raw[start]:02x})", file=path, line=line, column=column)


def reader_error(text: str, e: yaml.reader.ReaderError, *, in_bytes: bool) -> tuple[str, int, int]:
    """(message, line, column) for a character YAML does not allow (control characters, most of all)."""
    index = len(text.encode("utf-8")[: e.position].decode("utf-8", "ignore")) if in_bytes else e.position
    return (f"character U+{e.character:04X} is not allowed in YAML ({e.reason})", *_line_column(text, index))


def surrogate_error(text: str, index: int, path: str) -> InputError:
    line, column = _line_column(text, index)
    return InputError("not UTF-8 text (a lone surrogate code point)", file=path, line=line, column=column)


def _line_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of a character index, counting line breaks as libyaml does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


def _generic(e: yaml.MarkedYAMLError) -> str:
    return "not valid YAML: " + ", ".join(p for p in (e.context, e.problem) if p)
