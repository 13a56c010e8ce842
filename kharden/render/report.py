"""Text and JSON reports of changes and findings, for people (stderr) and for machines."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, Iterable

from kharden.model import Change, Finding, dotted


# What each grade means to a run: its SARIF level, and whether `check` exits 1 for it (docs/ci.md).
GRADES: dict[str, tuple[str, bool]] = {"violation": ("error", True), "would-fix": ("warning", True),
                                       "note": ("note", False)}


def fails(findings: Iterable[Finding]) -> bool:
    """Whether `check` exits 1: a violation, or something `kharden fix` would change; notes never fail."""
    return any(GRADES[f.grade][1] for f in findings)


def control_of(f: Finding) -> dict[str, Any]:
    """The PSS control a finding breaks, by check id and by the standard's name; {} for none."""
    from kharden.checks.pss.controls import control_name

    return {"control": f.control, "controlName": control_name(f.control)} if f.control else {}


def fixes_list(f: Finding) -> list[dict[str, Any]]:
    """The changes `kharden fix` makes for a PSS finding (kharden.checks.verdict), as rule, field and why."""
    return [{"rule": c.rule, "path": dotted(c.path) or None, "line": c.line, "message": c.message}
            for c in f.extra.get("fixes") or ()]


def finding_dict(f: Finding) -> dict[str, Any]:
    ref = f.obj
    return {
        "rule": f.rule,
        "severity": f.grade,
        **control_of(f),
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
        **({"fixes": fixes_list(f)} if f.extra.get("fixes") else {}),
    }


def finding_line(f: Finding) -> str:
    where = ""
    if f.obj is not None:
        where = f.obj.file + (f":{f.line}" if f.line else "") + f": {f.obj.label()}: "
    tail = f" ({f.reason})" if f.reason else ""
    return f"{where}{f.grade} [{f.rule}] {f.message}{tail}{fixed_by(f)}"


def fixed_by(f: Finding) -> str:
    """What fix does about a PSS problem, when it is not the problem itself: `; kharden fix: <why> (+N more)`."""
    fixes = f.extra.get("fixes") or ()
    if not fixes:
        return ""
    more = f" (+{len(fixes) - 1} more)" if len(fixes) > 1 else ""
    return f"; kharden fix: {fixes[0].message}{more}"


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
    unfixed = [f for f in findings if f.grade == "violation"]
    notes = [f for f in findings if f.grade != "violation"]
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
    n = counts(findings)
    line = (f"kharden: {n['violation']} violation(s), {n['would-fix']} would be fixed by `kharden fix`, "
            f"{n['note']} note(s) in {files} file(s)")
    return line + (f"; {errors} error(s): files or objects that could not be read" if errors else "")


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """How many findings of each grade: the summary every format gives."""
    n = dict.fromkeys(GRADES, 0)
    for f in findings:
        n[f.grade] += 1
    return n
