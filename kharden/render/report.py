"""Text and JSON reports of changes and findings, for people (stderr) and for machines."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from kharden.model import Change, Finding, dotted


def finding_dict(f: Finding) -> dict[str, Any]:
    ref = f.obj
    return {
        "rule": f.rule,
        "severity": f.severity,
        "status": f.status,
        "message": f.message,
        "reason": f.reason or None,
        "file": ref.file if ref else None,
        "line": f.line,
        "object": ref.label() if ref else None,
        "apiVersion": ref.api_version if ref else None,
        "kind": ref.kind if ref else None,
        "namespace": ref.namespace if ref else None,
        "name": ref.name if ref else None,
        "path": dotted(f.path) or None,
        **({"container": f.extra["container"]} if f.extra.get("container") else {}),
    }


def finding_line(f: Finding) -> str:
    where = ""
    if f.obj is not None:
        where = f.obj.file + (f":{f.line}" if f.line else "") + f": {f.obj.label()}: "
    tail = f" ({f.reason})" if f.reason else ""
    return f"{where}{f.severity} [{f.rule}] {f.message}{tail}"


def findings_text(findings: Iterable[Finding]) -> str:
    return "".join(finding_line(f) + "\n" for f in findings)


def findings_json(findings: Iterable[Finding]) -> str:
    return json.dumps([finding_dict(f) for f in findings], indent=2) + "\n"


def fix_summary(changes: list[Change], findings: list[Finding], generated: int) -> str:
    """The summary `kharden fix` writes to stderr."""
    objects = {c.obj for c in changes}
    files = {c.obj.file for c in changes}
    lines = [f"kharden: {len(objects)} object(s) changed in {len(files)} file(s), {len(changes)} change(s)"]
    per = Counter(c.mutator for c in changes)
    if per:
        lines.append("  " + ", ".join(f"{m}: {n}" for m, n in per.items()))
    if generated:
        lines.append(f"  {generated} object(s) generated")
    unfixed = [f for f in findings if f.status == "unfixed"]
    notes = [f for f in findings if f.status != "unfixed"]
    if unfixed:
        lines.append(f"kharden: {len(unfixed)} violation(s) not fixed:")
        lines += ["  " + finding_line(f) for f in unfixed]
    if notes:
        lines.append(f"kharden: {len(notes)} note(s):")
        lines += ["  " + finding_line(f) for f in notes]
    return "\n".join(lines) + "\n"


def generate_summary(generated: list[dict[str, Any]], findings: list[Finding]) -> str:
    """What `kharden generate` writes to stderr: the objects it generated and the generators' notes (the objects
    it hardened on the way are not its output: "N object(s) changed" misled)."""
    notes = [f for f in findings if f.rule.split(".")[0] in ("netpol", "rbac")]
    lines = [f"kharden: {len(generated)} object(s) generated"]
    if notes:
        lines.append(f"kharden: {len(notes)} note(s):")
        lines += ["  " + finding_line(f) for f in notes]
    return "\n".join(lines) + "\n"


def check_summary(findings: list[Finding], files: int, errors: int) -> str:
    """The one summary line `kharden check` writes (to stderr, in every format): violations, what `kharden fix`
    would fix, notes, files checked and files it could not read."""
    violations = [f for f in findings if f.severity == "error" and f.status not in ("opted-out", "fixable")]
    fixable = [f for f in findings if f.status == "fixable"]
    notes = len(findings) - len(violations) - len(fixable)
    line = (f"kharden: {len(violations)} violation(s), {len(fixable)} would be fixed by `kharden fix`, {notes} "
            f"note(s) in {files} file(s)")
    return line + (f"; {errors} error(s): files or objects that could not be read" if errors else "")
