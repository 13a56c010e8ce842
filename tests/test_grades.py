"""One finding per problem, graded violation / would-fix / note, in every output format (issue 21, item 6).

`check --profile restricted` printed each PSS violation and then the kharden.* change that mends it as a second
finding, every one of them `error`. Now the PSS finding carries the control and the changes fix makes for it, its
grade is fix's own decision, and SARIF levels and the exit code follow the grade.
"""

from __future__ import annotations

import json

from tests.integration_helpers import kharden

POD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        securityContext: {privileged: true}
      - name: side
        image: busybox:1.36
"""


def _check(tmp_path, fmt: str, text: str = POD, *args: str):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    return kharden("check", "--profile", "restricted", "--format", fmt, *args, str(path))


def test_a_pss_problem_and_its_fix_are_one_finding(tmp_path) -> None:
    done = _check(tmp_path, "json")
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)
    caps = [f for f in found if f["rule"] in ("pss.capabilities_restricted", "kharden.capabilities")]
    assert [(f["rule"], f.get("container")) for f in caps] == [("pss.capabilities_restricted", "web"),
                                                                 ("pss.capabilities_restricted", "side")], caps
    assert all(f["severity"] == "would-fix" and f["control"] == "capabilities_restricted"
               and f["controlName"] == "Capabilities" for f in caps)
    assert all(fx["rule"] == "kharden.capabilities" for f in caps for fx in f["fixes"])
    # the explicit privileged: true is kept by restricted: a violation with fix's reason, not a would-fix
    (priv,) = [f for f in found if f["rule"] == "pss.privileged"]
    assert priv["severity"] == "violation" and priv["controlName"] == "Privileged Containers" and priv["reason"]
    # a change that mends no PSS problem is still a finding of its own
    assert any(f["rule"] == "kharden.resources" and f["severity"] == "would-fix" for f in found)
    assert {f["severity"] for f in found} <= {"violation", "would-fix", "note"}


def test_text_speaks_in_grades_and_says_what_fix_does(tmp_path) -> None:
    out = _check(tmp_path, "text").stdout.splitlines()
    caps = [ln for ln in out if "capabilities" in ln and "[kharden.resources]" not in ln]
    assert len(caps) == 2 and all("would-fix [pss.capabilities_restricted]" in ln for ln in caps), caps
    assert all("; kharden fix: containers must drop ALL capabilities" in ln for ln in caps)
    assert any("violation [pss.privileged]" in ln for ln in out)
    assert not [ln for ln in out if " error [" in ln or " warning [" in ln or " info [" in ln]


def test_sarif_levels_follow_the_grade(tmp_path) -> None:
    run = json.loads(_check(tmp_path, "sarif").stdout)["runs"][0]
    level = {(r["ruleId"], r["properties"].get("container")): r["level"] for r in run["results"]}
    assert level[("pss.privileged", "web")] == "error"
    assert level[("pss.capabilities_restricted", "side")] == "warning"
    assert "kharden.capabilities" not in {r["ruleId"] for r in run["results"]}
    notes = [r for r in run["results"] if r["properties"]["grade"] == "note"]
    assert notes and all(r["level"] == "note" for r in notes)
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["pss.privileged"]["properties"]["pssControl"] == "Privileged Containers"
    summary = run["properties"]["summary"]
    assert summary["violation"] >= 1 and summary["would-fix"] >= 2 and summary["note"] == len(notes)


def test_markdown_buckets_are_the_grades(tmp_path) -> None:
    report = _check(tmp_path, "markdown").stdout
    fixable, _, human = report.partition("### Needs a human")
    assert "`pss.capabilities_restricted` (Capabilities)" in fixable and "`kharden.capabilities`" not in report
    assert "`pss.privileged` (Privileged Containers)" in human and "pss.privileged" not in fixable
    assert "**2 violation(s)** that need a human" in report  # privileged, and escalation beside it


def test_exit_code_and_summary_follow_the_grades(tmp_path) -> None:
    """After fix only notes are left (the pull-policy warnings): exit 0, and the summary line counts them; the
    input itself fails (exit 1) with would-fix findings alone, once the explicit privileged: true is gone."""
    src = tmp_path / "in" / "w.yaml"
    src.parent.mkdir()
    src.write_text(POD.replace("{privileged: true}", "{}"))
    before = kharden("check", "--profile", "restricted", "--format", "json", str(src))
    assert before.returncode == 1 and {f["severity"] for f in json.loads(before.stdout)} == {"would-fix", "note"}
    fixed = kharden("fix", "-o", str(tmp_path / "out"), str(src))
    assert fixed.returncode == 0, fixed.stderr
    after = kharden("check", "--profile", "restricted", str(tmp_path / "out"))
    assert after.returncode == 0, after.stdout
    notes = after.stdout.count(": note [")
    assert notes == len(after.stdout.splitlines()) >= 2
    assert after.stderr.splitlines()[-1].startswith(f"kharden: 0 violation(s), 0 would be fixed by `kharden fix`, "
                                                    f"{notes} note(s)"), after.stderr


def test_github_annotations_carry_grade_control_and_line(tmp_path) -> None:
    done = _check(tmp_path, "github")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert all(ln.startswith(("::error ", "::warning ", "::notice ")) for ln in lines), lines
    priv = [ln for ln in lines if "title=pss.privileged (Privileged Containers)" in ln]
    assert len(priv) == 1 and priv[0].startswith("::error file=") and ",line=12," in priv[0], priv
    caps = [ln for ln in lines if "pss.capabilities_restricted" in ln]
    assert len(caps) == 2 and all(ln.startswith("::warning ") and "kharden fix: containers must drop ALL" in ln
                                  for ln in caps), caps
    assert not [ln for ln in lines if "kharden.capabilities" in ln]
    assert lines[-1] == "::notice title=kharden::" + done.stderr.splitlines()[-1].removeprefix("kharden: ")


def test_github_annotation_escapes_what_the_runner_parses() -> None:
    from kharden.model import Finding, ObjectRef
    from kharden.render.github import workflow_commands

    ref = ObjectRef("a,b:c.yaml", 0, None, "v1", "Pod", "p", None)
    text = workflow_commands([Finding(ref, "x.y", "warning", "50% of it\nnext: line, more", line=3)], root=".")
    first = text.splitlines()[0]
    assert first == "::notice file=a%2Cb%3Ac.yaml,line=3,title=x.y::Pod/p: 50%25 of it%0Anext: line, more", first


def test_fix_report_needs_a_human_only_for_violations(tmp_path) -> None:
    """fix's markdown report (the Action's 'violations' output greps it) lists violations as needing a human;
    notes left (an image missing from the lock) are notes."""
    lock = tmp_path / "lock.yaml"
    lock.write_text("redis:7: sha256:" + "1" * 64 + "\n")
    src = tmp_path / "w.yaml"
    for text, human in ((POD, True), (POD.replace("{privileged: true}", "{}"), False)):
        src.write_text(text)
        report = tmp_path / "r.md"
        done = kharden("fix", "--pin-images", str(lock), "--report", str(report), str(src))
        assert done.returncode == 0 and "[image.not-in-lock]" in done.stderr, done.stderr
        body = report.read_text()
        assert ("### Still needs a human" in body) is human, body
        assert "image.not-in-lock" not in body.partition("### Still needs a human")[2].partition("### Notes")[0]
