"""GitHub Actions annotations: `kharden check --format github` prints one workflow command per finding, which the
runner shows at the offending line of the pull request's diff (no SARIF upload, no permissions).

    ::error file=deploy/web.yaml,line=17,title=pss.privileged (Privileged Containers)::Deployment/web: container ...

The command is the grade's (violation -> error, would-fix -> warning, note -> notice: kharden.model.Finding.grade),
the title the rule with its Pod Security Standards control, the message the object, the problem, fix's reason or
what fix does. A finding about no object, and a file that could not be read, is an annotation without a file. The
last line is a notice with the summary every format gives.

Escaping as the runner parses it (docs.github.com, "Workflow commands for GitHub Actions"): `%`, CR and LF in the
message; those and `:` and `,` in a property.
"""

from __future__ import annotations

from typing import Iterable

from kharden.model import Finding
from kharden.render.report import control_of, counts, fixed_by
from kharden.render.sarif import relative_uri

COMMAND = {"violation": "error", "would-fix": "warning", "note": "notice"}


def workflow_commands(findings: Iterable[Finding], errors: Iterable[Exception] = (),
                      root: str | None = None, files: int = 0) -> str:
    """One annotation per finding and per unread file, then the summary notice; paths relative to `root`."""
    import os

    root = os.path.abspath(root or os.getcwd())
    findings = list(findings)
    lines = [_annotation(f, root) for f in findings]
    lines += [f"::error title=kharden: could not read::{_data(str(e))}" for e in errors]
    n = counts(findings)
    lines.append(f"::notice title=kharden::{n['violation']} violation(s), {n['would-fix']} would be fixed by "
                 f"`kharden fix`, {n['note']} note(s) in {files} file(s)")
    return "\n".join(lines) + "\n"


def _annotation(f: Finding, root: str) -> str:
    name = control_of(f).get("controlName")
    props = [f"title={_property(f.rule + (f' ({name})' if name else ''))}"]
    if f.obj is not None:
        props[:0] = [f"file={_property(relative_uri(f.obj.file, root))}", f"line={f.line or 1}"]
    label = f"{f.obj.label()}: " if f.obj is not None else ""
    reason = f" ({f.reason})" if f.reason else ""
    return f"::{COMMAND[f.grade]} {','.join(props)}::{_data(label + f.message + reason + fixed_by(f))}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
