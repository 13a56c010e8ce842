"""Findings you can act on (issue 21, item 6): `check --pss` is the PSS controls only; explicit values a profile
leaves in place are reported with their reason; a low UID is raised under strict."""

from __future__ import annotations

import json

from kharden import run
from kharden.read import parse_text
from tests.integration_helpers import kharden

WILDCARD_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules:
- apiGroups: ["*"]
  resources: ["*"]
  verbs: ["*"]
"""
EXPLICIT = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  automountServiceAccountToken: true
  securityContext: {runAsUser: 2000}
  containers:
  - name: c
    image: nginx
    securityContext: {readOnlyRootFilesystem: false}
"""


def test_check_pss_is_the_pss_controls_only(tmp_path) -> None:
    role = tmp_path / "role.yaml"
    role.write_text(WILDCARD_ROLE)
    alone = kharden("check", "--pss", "restricted", str(role))
    assert alone.returncode == 0 and "rbac." not in alone.stdout, alone.stdout
    asked = kharden("check", "--pss", "restricted", "--rbac", str(role))
    assert asked.returncode == 1 and "rbac.wildcard-verb" in asked.stdout
    profiled = kharden("check", "--profile", "restricted", str(role))
    assert profiled.returncode == 1 and "rbac.wildcard-verb" in profiled.stdout


def _rules(findings: list[dict]) -> dict[str, dict]:
    return {f["rule"]: f for f in findings if f["status"] == "unfixed"}


def test_check_profile_reports_explicit_values_kept(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT)
    done = kharden("check", "--profile", "restricted", "--format", "json", str(pod))
    assert done.returncode == 1
    left = _rules(json.loads(done.stdout))
    assert left["kharden.runAsUser"]["severity"] == "violation" and "2000" in left["kharden.runAsUser"]["message"]
    assert left["kharden.readOnlyRootFilesystem"]["severity"] == "violation"
    assert left["kharden.readOnlyRootFilesystem"]["container"] == "c"
    # an explicit token the workload is not known to use breaks the profile (Polaris and kubescape fail it)
    assert left["kharden.automountServiceAccountToken"]["severity"] == "violation"
    assert all(f["reason"] for f in left.values())


def test_a_token_the_workload_uses_is_a_note_not_a_violation(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT.replace("metadata: {name: p}", "metadata:\n  name: p\n  annotations:\n"
                                    "    kharden.dev/access: get pods"))
    found = json.loads(kharden("check", "--profile", "restricted", "--format", "json", str(pod)).stdout)
    token = [f for f in found if f["rule"] == "kharden.automountServiceAccountToken"]
    assert [t["severity"] for t in token] == ["note"], token
    assert "a token in use is kept" in token[0]["reason"]


def _fix(text: str, profile: str) -> run.FixOutcome:
    return run.fix_sources([parse_text(text, "p.yaml")], profile, generate=False)


def test_fix_says_what_it_kept_and_strict_raises_the_uid() -> None:
    kept = {f.rule for f in _fix(EXPLICIT, "restricted").result.findings if f.status == "unfixed"}
    assert {"kharden.runAsUser", "kharden.readOnlyRootFilesystem", "kharden.automountServiceAccountToken"} <= kept
    strict = _fix(EXPLICIT, "strict")
    raised = [c for c in strict.result.changes if c.path[-1] == "runAsUser" and c.old == 2000]
    assert raised and raised[0].new == 10001 and "below the minimum 10000" in raised[0].reason
    assert not [f for f in strict.result.findings if f.rule.startswith("kharden.") and f.status == "unfixed"]


def test_windows_marked_pod_leftovers_say_why() -> None:
    text = EXPLICIT.replace("  automountServiceAccountToken: true\n", "  nodeSelector: {kubernetes.io/os: windows}\n")
    left = [f for f in _fix(text, "restricted").result.findings if f.rule.startswith("pss.")]
    assert left and all(f.reason.startswith("a Windows pod") for f in left)


def test_check_has_a_summary_line_in_every_format(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT)
    for fmt in ("text", "json", "sarif", "markdown"):
        done = kharden("check", "--profile", "restricted", "--format", fmt, str(pod))
        assert done.returncode == 1
        assert "would be fixed by `kharden fix`" in done.stderr.splitlines()[-1], (fmt, done.stderr)


def test_generate_says_what_it_generated_not_what_it_changed(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT)
    done = kharden("generate", "networkpolicies", str(pod))
    assert done.returncode == 0, done.stderr
    assert "object(s) generated" in done.stderr and "object(s) changed" not in done.stderr


def test_opt_out_reason_printed_once(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT.replace("metadata: {name: p}", "metadata:\n  name: p\n  annotations:\n"
                                    "    skip.kharden.dev/readOnlyRootFilesystem: writes its cache to /")
                   .replace("    securityContext: {readOnlyRootFilesystem: false}\n", ""))
    done = kharden("fix", str(pod))
    assert done.returncode == 0, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if "opted out for" in ln]
    assert lines and all(ln.count("writes its cache to /") == 1 for ln in lines), lines


def test_extends_of_a_missing_profile_names_the_file(tmp_path) -> None:
    prof = tmp_path / "mine.yaml"
    prof.write_text("extends: nosuch\n")
    pod = tmp_path / "p.yaml"
    pod.write_text(EXPLICIT)
    done = kharden("fix", "-p", str(prof), str(pod))
    assert done.returncode == 2 and f"{prof}: extends: no such profile 'nosuch'" in done.stderr, done.stderr


def test_would_fix_is_exactly_what_fix_changes_on_the_corpus(corpus) -> None:
    """check --profile's "fixable" findings and fix's changes come from the same decision: equal, object by
    object and path by path, mutators' and generators' edits alike (check listed 85 where fix made 90)."""
    from kharden.checks.verdict import fixes_of
    from kharden.pipeline import Request
    from kharden.profile import load_profile
    from kharden.read.source import read_source
    from kharden.files.discover import discover
    from kharden.tree.screen import judge

    prof = load_profile("restricted")
    compared = folded = 0
    for path in discover([str(corpus / "apps")]).paths:
        if not isinstance(judge(path, prof.pod_templates), type(read_source(path))):
            continue  # skipped or broken: neither fix nor check changes it
        changes = {(c.obj, c.path) for c in run.fix_sources([read_source(path)], prof).result.changes}
        checked = run.execute(Request([read_source(path)], prof, mode="check"))
        would_fix = {(c.obj, c.path) for f in checked.findings for c in fixes_of(f)}
        assert would_fix == changes, path
        # one finding per problem: a change is either a finding of its own or carried by the PSS problem it serves
        carried = [c for f in checked.findings if f.rule.startswith("pss.") for c in fixes_of(f)]
        own = [f for f in checked.findings if f.rule.startswith("kharden.") and f.status == "fixable"]
        assert not {(c.obj, c.path) for c in carried} & {(f.obj, f.path) for f in own}, path
        folded += len(carried)
        compared += bool(changes)
    assert compared > 50 and folded > 100


def test_markdown_buckets_follow_fix_container_by_container(tmp_path) -> None:
    pod = tmp_path / "p.yaml"
    pod.write_text("""\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    container.kubeaudit.io/b.allow-privilege-escalation: "runs sudo"
spec:
  containers:
  - {name: a, image: nginx}
  - {name: b, image: nginx, securityContext: {allowPrivilegeEscalation: true}}
""")
    report = kharden("check", "--profile", "restricted", "--format", "markdown", str(pod)).stdout
    fixable, _, human = report.partition("### Needs a human")
    def rows(text: str) -> list[str]:
        return [ln for ln in text.splitlines() if ln.startswith("|") and "pss.allowPrivilegeEscalation" in ln]

    assert len(rows(fixable)) == 1 and len(rows(human)) == 1, report
    assert '"a"' in rows(fixable)[0] and "runs sudo" not in rows(fixable)[0]
    assert '"b"' in rows(human)[0] and "runs sudo" in rows(human)[0]


APE = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: a
    image: nginx
    securityContext: {privileged: true}
  - name: b
    image: nginx
    securityContext: {capabilities: {add: [SYS_ADMIN]}}
  - name: c
    image: nginx
    securityContext: {capabilities: {add: [cap_net_bind_service]}}
"""


def test_escalation_left_beside_privileged_or_sys_admin_says_why() -> None:
    left = {f.extra.get("container"): f.reason for f in _fix(APE, "restricted").result.findings
            if f.rule == "pss.allowPrivilegeEscalation"}
    assert left["a"].startswith("privileged: true makes allowPrivilegeEscalation: false invalid"), left
    assert left["b"].startswith("the added capability SYS_ADMIN makes"), left
    assert not any("an explicit value" in r for r in left.values())


def test_strict_writes_an_allowed_capability_as_pss_spells_it() -> None:
    strict = _fix(APE, "strict")
    assert not [f for f in strict.result.findings if f.rule.startswith("pss.")], strict.result.findings
    assert any(c.old == "cap_net_bind_service" and c.new == "NET_BIND_SERVICE" for c in strict.result.changes)


def test_an_override_label_is_reported_once_applied_or_not_needed() -> None:
    text = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  labels:
    container.kubeaudit.io/a.allow-privilege-escalation: "already off"
    container.kubeaudit.io/b.allow-privilege-escalation: "runs sudo"
spec:
  containers:
  - {name: a, image: nginx, securityContext: {allowPrivilegeEscalation: false}}
  - {name: b, image: nginx}
"""
    about = [f for f in _fix(text, "restricted").result.findings
             if f.rule in ("kharden.allowPrivilegeEscalation", "kharden.unneeded-opt-out")]
    by_reason = {f.reason: f for f in about}
    assert len(about) == 2, [(f.rule, f.status, f.message) for f in about]
    assert by_reason["already off"].rule == "kharden.unneeded-opt-out"
    assert by_reason["runs sudo"].status == "opted-out"
