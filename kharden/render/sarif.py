"""SARIF 2.1.0 for GitHub code scanning: `kharden check --format sarif > kharden.sarif`.

One run; one rule per rule id seen (stable ids, help text, `security-severity`); one result per finding, located at
the offending field's line in a path relative to the repository root (the current directory, or `root`), with a
partial fingerprint built from what does not move when lines do (rule, file, object, field, container) so that
GitHub tracks an alert across edits. Files that could not be read become tool execution notifications.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Iterable

from kharden import __version__
from kharden.model import Finding, dotted
from kharden.render.report import GRADES, control_of, counts, fixes_list
from kharden.render.rules import Rule, rule

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def _level(f: Finding) -> str:
    """violation -> error, would-fix -> warning, note -> note (kharden.render.report.GRADES)."""
    return GRADES[f.grade][0]


def sarif(findings: Iterable[Finding], errors: Iterable[Exception] = (), root: str | None = None) -> dict[str, Any]:
    root = os.path.abspath(root or os.getcwd())
    findings, errors = list(findings), list(errors)
    located = [f for f in findings if f.obj is not None]
    rules = _rules(located)
    index = {r.id: i for i, r in enumerate(rules)}
    notes = [_notification(str(e), "error") for e in errors]
    notes += [_notification(f.message, _level(f)) for f in findings if f.obj is None]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kharden", "version": __version__, "semanticVersion": __version__,
                                "rules": [_rule(r) for r in rules]}},
            "originalUriBaseIds": {"%SRCROOT%": {"uri": _dir_uri(root)}},
            "invocations": [{"executionSuccessful": not errors,
                             "toolExecutionNotifications": notes}],
            "results": [_result(f, index[f.rule], root) for f in located],
            "properties": {"summary": counts(findings)},  # violation / would-fix / note, as check's summary line
        }],
    }


def _rules(findings: list[Finding]) -> list[Rule]:
    first: dict[str, str] = {}
    for f in findings:
        first.setdefault(f.rule, f.message)
    return [rule(rid, msg) for rid, msg in sorted(first.items())]


def _rule(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "name": "".join(p[:1].upper() + p[1:] for p in r.id.replace("_", ".").split(".")),
        "shortDescription": {"text": r.title},
        "fullDescription": {"text": r.help.split("\n\n")[0]},
        "help": {"text": r.help, "markdown": r.help},
        "defaultConfiguration": {"level": r.level},
        "properties": {"security-severity": f"{r.severity:.1f}", "precision": "very-high",
                       "tags": ["security", "kubernetes", r.id.split(".")[0]],
                       **_pss_control(r.id)},
    }


def _pss_control(rule_id: str) -> dict[str, str]:
    """A PSS rule's control, as the standard names it: `pss.privileged` -> "Privileged Containers"."""
    from kharden.checks.pss.controls import control_name

    name = control_name(rule_id.removeprefix("pss.")) if rule_id.startswith("pss.") else ""
    return {"pssControl": name} if name else {}


def _result(f: Finding, rule_index: int, root: str) -> dict[str, Any]:
    assert f.obj is not None
    uri = relative_uri(f.obj.file, root)
    container = f.extra.get("container") or ""
    where = dotted(f.path)
    text = f.message + (f" ({f.reason})" if f.reason else "")
    key = "\0".join([f.rule, uri, f.obj.api_version, f.obj.kind, f.obj.namespace or "", f.obj.name, where, container])
    return {
        "ruleId": f.rule,
        "ruleIndex": rule_index,
        "level": _level(f),
        "message": {"text": f"{f.obj.label()}: {text}"},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                                 "region": {"startLine": f.line or 1}},
            "logicalLocations": [{"fullyQualifiedName": f.obj.label() + (f":{where}" if where else ""),
                                  "kind": "object"}],
        }],
        "partialFingerprints": {"khardenFinding/v1": hashlib.sha256(key.encode()).hexdigest()[:32]},
        "properties": {"status": f.status, "grade": f.grade, **control_of(f),
                       **({"fixes": fixes_list(f)} if f.extra.get("fixes") else {}),
                       **({"reason": f.reason} if f.reason else {}),
                       **({"container": container} if container else {}),
                       **{k: f.extra[k] for k in ("cis", "checkov", "cve") if k in f.extra}},
    }


def relative_uri(path: str, root: str) -> str:
    """A POSIX path relative to `root` (what GitHub matches against the repository), or the path as given."""
    if path in ("-", "") or path.startswith("<"):
        return "stdin"
    rel = os.path.relpath(os.path.abspath(path), root)
    if rel.startswith(".."):
        return "file://" + os.path.abspath(path).replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def _dir_uri(root: str) -> str:
    return "file://" + root.replace(os.sep, "/").rstrip("/") + "/"


def _notification(text: str, level: str) -> dict[str, Any]:
    return {"level": level, "message": {"text": text}}
