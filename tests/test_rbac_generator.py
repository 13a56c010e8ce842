"""Golden cases for the rbac generator, one folder each under tests/data/rbac/cases/:

  in.yaml          the input manifests
  audit.log        optional: the audit log passed as `audit_log`
  opts.yaml        optional: options set over the generator's defaults
  generated.yaml   expected generated objects, in order
  changes.yaml     expected edits of the input (object, op, JSON pointer, value)
  findings.yaml    expected findings (rule, severity, object, line, message)

Each case also runs a second time over its own output (edited input + generated objects): nothing may change.
Set KHARDEN_REGEN=1 to rewrite the expected files after a deliberate change, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kharden.generators import GENERATORS
from kharden.generators.rbac import generator as rbac
from kharden.model import Change, pointer
from kharden.mutators.base import Editor
from kharden.options import as_profile
from kharden.profile import options
from kharden.read import KObject, parse_text

CASES_DIR = Path(__file__).parent / "data" / "rbac" / "cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if p.is_dir())


def run(case: Path, text: str | None = None) -> tuple[list[KObject], Any, list[Change]]:
    text = (case / "in.yaml").read_text() if text is None else text
    objects = list(parse_text(text, "in.yaml").objects())
    opts = rbac.Options()
    if (case / "opts.yaml").exists():
        opts = options(opts, yaml.safe_load((case / "opts.yaml").read_text()), "generators.rbac")
    changes: list[Change] = []
    log = "audit.log" if (case / "audit.log").exists() else None
    out = rbac.generate(objects, opts, lambda o: Editor(o, rbac.ID, changes), audit_log=log)
    return objects, out, changes


def as_records(out: Any, changes: list[Change]) -> dict[str, Any]:
    return {
        "generated": out.objects,
        "changes": [
            {"object": c.obj.label(), "op": c.op, "path": pointer(c.path), "value": c.new} for c in changes
        ],
        "findings": [
            {"rule": f.rule, "severity": f.severity, "object": f.obj.label() if f.obj else None,
             "line": f.line, "message": f.message}
            for f in out.findings
        ],
    }


@pytest.mark.parametrize("name", CASES)
def test_case(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES_DIR / name
    monkeypatch.chdir(case)  # the audit log is named as given, so sources read "audit.log line 3"
    _, out, changes = run(case)
    got = as_records(out, changes)
    files = {"generated": "generated.yaml", "changes": "changes.yaml", "findings": "findings.yaml"}
    if os.environ.get("KHARDEN_REGEN"):
        (case / files["generated"]).write_text(yaml.safe_dump_all(got["generated"], sort_keys=False))
        for key in ("changes", "findings"):
            (case / files[key]).write_text(yaml.safe_dump(got[key], sort_keys=False, width=120))
    assert got["generated"] == list(yaml.safe_load_all((case / files["generated"]).read_text()))
    assert got["changes"] == (yaml.safe_load((case / files["changes"]).read_text()) or [])
    assert got["findings"] == (yaml.safe_load((case / files["findings"]).read_text()) or [])


@pytest.mark.parametrize("name", CASES)
def test_second_run_changes_nothing(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES_DIR / name
    monkeypatch.chdir(case)
    objects, out, _ = run(case)
    again = yaml.safe_dump_all([o.data for o in objects] + out.objects, sort_keys=False)
    _, out2, changes2 = run(case, again)
    assert changes2 == []
    assert out2.objects == []


def test_registered() -> None:
    assert GENERATORS["rbac"] is rbac
    assert set(as_profile(rbac.Options())) == {"enabled", "serviceAccounts", "automount", "roles", "annotation"}


def test_a_stale_generated_role_is_kept_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES_DIR / "annotation"
    monkeypatch.chdir(case)
    objects, out, _ = run(case)
    role = next(o for o in out.objects if o["kind"] == "Role")
    role["rules"] = role["rules"][:1]  # as if generated before the workload declared more
    _, out2, changes2 = run(case, yaml.safe_dump_all([o.data for o in objects] + out.objects, sort_keys=False))
    assert out2.objects == [] and changes2 == []
    assert [(f.rule, f.obj.label() if f.obj else None) for f in out2.findings] == [
        ("rbac.stale", "Role/shop/kharden-web")
    ]
