"""Markdown reports for a pull-request comment or a CI job summary ($GITHUB_STEP_SUMMARY).

`check`: what is wrong, split into what `kharden fix` can fix and what needs a human (with the reason).
`fix`: what changed and why (per object, per field), what was generated, and what still needs a human.
Both are renderings of the same Change and Finding records as every other output.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, Iterable

from kharden.model import Change, Finding, dotted
from kharden.render.report import fixed_by, control_of
from kharden.render.rules import rule


def cell(value: Any) -> str:
    """A table cell: pipes escaped, newlines flattened, code-ish values in backticks."""
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text


def _code(value: Any) -> str:
    import json

    text = json.dumps(value, separators=(", ", ": ")) if not isinstance(value, str) else value
    return "`" + cell(text).replace("`", "'") + "`"


def _where(f: Finding) -> str:
    if f.obj is None:
        return ""
    return f"`{f.obj.file}" + (f":{f.line}" if f.line else "") + "`"


def _control(f: Finding) -> str:
    """` (Privileged Containers)`: the PSS control a finding breaks, as the standard names it."""
    name = control_of(f).get("controlName")
    return f" ({cell(name)})" if name else ""


def _findings_table(findings: list[Finding], with_reason: bool) -> list[str]:
    head = "| Where | Object | Rule | Problem |" + (" Why not fixed |" if with_reason else "")
    sep = "|---|---|---|---|" + ("---|" if with_reason else "")
    rows = [head, sep]
    for f in findings:
        row = (f"| {_where(f)} | {cell(f.obj.label()) if f.obj else ''} | `{f.rule}`{_control(f)} | "
               f"{cell(f.message)}{cell(fixed_by(f))} |")
        rows.append(row + (f" {cell(f.reason)} |" if with_reason else ""))
    return rows


def check_report(findings: Iterable[Finding], errors: Iterable[Exception] = (),
                 unfixed: Iterable[Finding] | None = None) -> str:
    """Buckets by grade: would-fix under "`kharden fix` can fix", violations under "Needs a human" with fix's reason.
    `check --profile` grades its findings by fix's own decision (kharden.checks.verdict). `check --pss` has no
    profile to decide: its PSS findings are bucketed by `unfixed`, what `kharden fix` left unfixed on the same
    input; without it, the controls kharden never fixes are listed as needing a human."""
    from kharden.checks.pss import NOT_FIXABLE

    findings, errors = list(findings), list(errors)
    # By object, rule *and container*: fix's own decision for each problem (keyed by object and rule alone, a
    # container fix fixes landed under "Needs a human" with another container's opt-out reason).
    def key(f: Finding) -> tuple[Any, str, Any]:
        return (f.obj, f.rule, f.extra.get("container"))

    left = {key(u): u.reason for u in unfixed} if unfixed is not None else None

    def needs_a_human(f: Finding) -> bool:
        if f.status != "open" or not f.rule.startswith("pss."):  # graded by fix's decision, or not fix's business
            return f.grade == "violation"
        return key(f) in left if left is not None else f.rule in NOT_FIXABLE

    violations = [f for f in findings if f.grade != "note"]
    needs_human = [needs_a_human(f) for f in violations]
    fixable = [f for f, h in zip(violations, needs_human) if not h]
    human = [replace(f, reason=f.reason or (left or {}).get(key(f)) or NOT_FIXABLE.get(f.rule, ""))
             for f, h in zip(violations, needs_human) if h]
    lines = ["## kharden check", ""]
    if not violations and not errors:
        notes = f" {len(findings)} note(s)." if findings else ""
        return "\n".join(lines + ["No violations found." + notes] + _other(findings) + [""])  # all notes
    # the summary line of every format (kharden.render.report.check_summary), in the buckets' words
    lines.append(f"**{len(human)} violation(s)** that need a human, **{len(fixable)}** `kharden fix` can fix, "
                 f"{len(findings) - len(violations)} note(s), in "
                 f"{len({f.obj.file for f in violations if f.obj})} file(s).")
    if fixable:
        lines += ["", "### `kharden fix` can fix", ""] + _findings_table(fixable, with_reason=False)
    if human:
        lines += ["", "### Needs a human", ""] + _findings_table(human, with_reason=True)
    lines += _other([f for f in findings if f.grade == "note"]) + _errors(errors) + _rule_notes(violations)
    return "\n".join(lines) + "\n"


def _other(rest: list[Finding]) -> list[str]:
    """The findings outside the tables, as a list. (The callers pick them by grade: picking them as the findings
    `not in` the tables' list compared each with every one, minutes for 30,000 findings.)"""
    if not rest:
        return []
    return ["", "### Notes", ""] + [f"- {_where(f)} {cell(f.message)}" + (f" ({cell(f.reason)})" if f.reason else "")
                                    for f in rest]


def _errors(errors: list[Exception]) -> list[str]:
    return ["", "### Files kharden could not read", ""] + [f"- {cell(e)}" for e in errors] if errors else []


def _rule_notes(findings: list[Finding]) -> list[str]:
    ids = sorted({f.rule for f in findings})
    if not ids:
        return []
    out = ["", "<details><summary>What the rules mean</summary>", ""]
    out += [f"- `{r.id}` ({r.title}): {cell(r.help.splitlines()[0])}" for r in (rule(i) for i in ids)]
    return out + ["", "</details>"]


def fix_report(changes: list[Change], findings: list[Finding], generated: list[dict[str, Any]]) -> str:
    """What `kharden fix` changed and why, what it generated, and what still needs a human."""
    objects = list(dict.fromkeys(c.obj for c in changes))
    lines = ["## kharden fix", ""]
    per = Counter(c.mutator for c in changes)
    lines.append(f"**{len(changes)} change(s)** to {len(objects)} object(s) in {len({o.file for o in objects})} "
                 f"file(s)" + (f"; {len(generated)} object(s) generated" if generated else "") + ".")
    if per:
        lines += ["", "| Mutator | Changes |", "|---|---|"] + [f"| `{m}` | {n} |" for m, n in per.items()]
    if objects:
        lines += ["", "### What changed and why"]
    by_obj: dict[Any, list[Change]] = {}
    for c in changes:
        by_obj.setdefault(c.obj, []).append(c)
    for ref in objects:
        lines += ["", f"<details><summary><code>{cell(ref.file)}</code>: {cell(ref.label())}</summary>", "",
                  "| Field | Change | Why |", "|---|---|---|"]
        for c in by_obj[ref]:  # (a scan of every change per object was quadratic)
            what = {"add": f"set {_code(c.new)}", "replace": f"{_code(c.old)} → {_code(c.new)}",
                    "remove": f"removed {_code(c.old)}"}[c.op]
            lines.append(f"| `{cell(dotted(c.path))}` | {what} | {cell(c.reason)} |")
        lines += ["", "</details>"]
    if generated:
        lines += ["", "### Generated", ""] + [
            f"- {cell(g.get('kind'))}/{cell((g.get('metadata') or {}).get('name'))}" for g in generated]
    unfixed = [f for f in findings if f.grade == "violation"]  # what is left that breaks the profile; the rest: notes
    if unfixed:
        lines += ["", "### Still needs a human", ""] + _findings_table(unfixed, with_reason=True)
    lines += _other([f for f in findings if f.grade != "violation"])
    if not changes and not generated and not unfixed:
        lines += ["", "Nothing to change: the manifests already meet the profile."]
    return "\n".join(lines) + "\n"
