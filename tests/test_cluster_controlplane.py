"""Control-plane static pods and KubeletConfiguration: CIS items judged from the manifest, fixed where safe.

The checkov judge (optional: it needs `checkov` on PATH, or KHARDEN_CHECKOV naming its binary) runs checkov's
control-plane checks (CKV_K8S_68-121, 138-151) on kharden's output for tests/data/cluster/kubeadm/{insecure,secure}:
every check that still fails must be one kharden's report names as not fixed (needs cluster files, a decision, or
an obsolete flag), by its checkov id.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from kharden.checks.cluster import check_cluster
from kharden.cluster import cis
from kharden.cluster.flags import component_of, flags_of
from kharden.cluster.guards import anonymous, bind_local
from kharden.read import parse_text
from kharden.render import sarif
from kharden.run import fix_sources

DATA = Path(__file__).parent / "data" / "cluster" / "kubeadm"
STRICT = {"controlPlane": {"enabled": True, "enforce": True, "auditPolicyFile": "/etc/kubernetes/audit-policy.yaml"},
          "kubeletConfiguration": {"enabled": True, "enforce": True}}
CONTROL_PLANE_CHECKOV = re.compile(r"^CKV_K8S_(6[89]|[7-9]\d|1[01]\d|12[01]|13[89]|14\d|15[01])$")


def objects(*names: str, variant: str = "insecure"):
    out = []
    for n in names:
        p = DATA / variant / n
        out += list(parse_text(p.read_text(encoding="utf-8"), str(p)).objects())
    return out


def test_table_loads_and_every_item_is_consistent():
    items = cis.items()
    assert len(items) > 60
    assert {i.component for i in items} == set(cis.COMPONENTS)
    # every checkov id we map is one of the control-plane range
    assert all(CONTROL_PLANE_CHECKOV.match(i.checkov) for i in items if i.checkov)


@pytest.mark.parametrize("command,component", [
    (["kube-apiserver", "--x=1"], "kube-apiserver"),
    (["/usr/local/bin/etcd"], "etcd"),
    (["/hyperkube", "kube-scheduler"], "kube-scheduler"),
    (["sh", "-c", "kube-apiserver --profiling=true"], None),  # a shell line is not read (and not guessed)
])
def test_recognised_by_command_not_name(command, component):
    assert component_of({"name": "anything", "command": command}) == component


def test_flags_last_occurrence_wins_and_bare_flag_is_true():
    flags = flags_of({"command": ["x", "--profiling=true", "--v"], "args": ["--profiling=false"]})
    assert flags["--profiling"].value == "false" and flags["--profiling"].path == ("args", 0)
    assert flags["--v"].value == "true"


def test_check_reports_cis_numbers_and_reasons():
    found = {(f.rule, f.obj.name): f for f in check_cluster(objects("kube-apiserver.yaml", "kube-scheduler.yaml"))}
    profiling = found[("cis.1.2.15", "kube-apiserver")]
    assert profiling.extra["cis"] == "1.2.15" and profiling.extra["checkov"] == "CKV_K8S_90"
    assert "enforce" in profiling.reason and profiling.line == 20
    anon = found[("cis.1.2.1", "kube-apiserver")]
    assert "AuthenticationConfiguration" in anon.reason and "/livez" in anon.reason
    assert found[("cis.1.2.27", "kube-apiserver")].extra["needs"] == "cluster-files"
    assert "probe calls the pod IP" in found[("cis.1.4.2", "kube-scheduler")].reason


def test_secure_variant_has_only_what_needs_the_cluster():
    left = check_cluster(objects(*[p.name for p in (DATA / "secure").iterdir()], variant="secure"))
    assert {f.rule for f in left} == {"cis.1.2.1", "controlplane.insecure-port",
                                      "controlplane.admission-securitycontextdeny",
                                      "controlplane.admission-podsecuritypolicy"}
    assert all(f.severity == "info" for f in left if f.rule.startswith("controlplane."))


def test_anonymous_guard():
    flags = flags_of({"command": ["kube-apiserver", "--client-ca-file=/ca"]})
    assert anonymous(flags, {}, {})[0]
    probe = {"livenessProbe": {"httpGet": {"path": "/livez", "port": 6443}}}
    ok, why = anonymous(flags, probe, {})
    assert not ok and "AuthenticationConfiguration" in why
    assert not anonymous(flags_of({"command": ["kube-apiserver"]}), {}, {})[0]  # no other authenticator
    assert not anonymous(flags_of({"command": ["kube-apiserver", "--client-ca-file=/ca",
                                               "--authentication-config=/a"]}), {}, {})[0]


def test_bind_local_guard():
    assert bind_local({}, {"livenessProbe": {"httpGet": {"host": "127.0.0.1", "path": "/healthz"}}}, {})[0]
    assert not bind_local({}, {"livenessProbe": {"httpGet": {"path": "/healthz"}}}, {})[0]


def _fix(paths, mutators):
    srcs = [parse_text(Path(p).read_text(encoding="utf-8"), str(p)) for p in paths]
    prof = Path(os.environ.get("TMPDIR", "/tmp")) / f"kharden-cp-{os.getpid()}.yaml"
    import yaml
    prof.write_text(yaml.safe_dump({"description": "t", "mutators": mutators}), encoding="utf-8")
    try:
        return fix_sources(srcs, str(prof), generate=False)
    finally:
        prof.unlink()


def test_fix_is_idempotent_and_leaves_the_secure_variant_alone():
    files = sorted((DATA / "secure").iterdir())
    out = _fix(files, STRICT)
    assert out.result.changes == []
    files = sorted((DATA / "insecure").iterdir())
    first = _fix(files, STRICT)
    assert first.result.changes
    texts = first.texts() if hasattr(first, "texts") else None
    assert texts is None or texts


def test_default_fix_never_rewrites_a_written_value():
    out = _fix([DATA / "insecure" / "kube-apiserver.yaml"], {"controlPlane": {"enabled": True}})
    assert {c.op for c in out.result.changes} <= {"add", "replace"}
    for c in out.result.changes:
        if c.op == "replace":  # only lists that grew
            assert c.new.startswith(c.old.split("=")[0]) and set(c.old.split("=")[1].split(",")) <= set(
                c.new.split("=")[1].split(","))
    unfixed = {f.rule for f in out.result.findings if f.status == "unfixed"}
    assert {"cis.1.2.15", "cis.1.2.6", "cis.1.2.10"} <= unfixed  # written insecure values: reported


def test_sarif_carries_cis_and_checkov():
    doc = sarif.sarif(check_cluster(objects("kube-apiserver.yaml")))
    results = doc["runs"][0]["results"]
    r = next(r for r in results if r["ruleId"] == "cis.1.2.15")
    assert r["properties"]["cis"] == "1.2.15" and r["properties"]["checkov"] == "CKV_K8S_90"
    assert any(rule["id"] == "cis.1.2.15" for rule in doc["runs"][0]["tool"]["driver"]["rules"])


# -- the checkov judge -----------------------------------------------------------------------------------------

def _checkov() -> str:
    found = os.environ.get("KHARDEN_CHECKOV") or shutil.which("checkov")
    if not found:
        pytest.skip("checkov is not installed (pip install checkov, or set KHARDEN_CHECKOV)")
    return found


def _checkov_failures(binary: str, directory: Path) -> set[tuple[str, str]]:
    run = subprocess.run([binary, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
                          "--compact", "--skip-download"], capture_output=True, text=True, timeout=300)
    data = json.loads(run.stdout)
    reports = data if isinstance(data, list) else [data]
    return {(c["check_id"], Path(c["file_path"]).name) for r in reports for c in r["results"]["failed_checks"]
            if CONTROL_PLANE_CHECKOV.match(c["check_id"])}


@pytest.mark.parametrize("variant", ["insecure", "secure"])
def test_checkov_passes_after_fix_except_what_the_report_names(variant, tmp_path):
    binary = _checkov()
    files = sorted((DATA / variant).iterdir())
    outcome = _fix(files, STRICT)
    for src, text in zip(outcome.result.sources, _texts(outcome)):
        (tmp_path / Path(src.path).name).write_text(text, encoding="utf-8")
    failing = _checkov_failures(binary, tmp_path)
    named = {(f.extra["checkov"], Path(f.obj.file).name) for f in outcome.result.findings
             if f.status == "unfixed" and f.extra.get("checkov")}
    assert failing - named == set(), "checkov fails checks kharden's report does not name"
    if variant == "insecure":
        before = _checkov_failures(binary, DATA / variant)
        fixed = {c for c, _ in before - failing}
        assert {"CKV_K8S_90", "CKV_K8S_74", "CKV_K8S_75", "CKV_K8S_77", "CKV_K8S_79", "CKV_K8S_85", "CKV_K8S_91",
                "CKV_K8S_92", "CKV_K8S_96", "CKV_K8S_107", "CKV_K8S_108", "CKV_K8S_113",
                "CKV_K8S_117", "CKV_K8S_138", "CKV_K8S_141", "CKV_K8S_145"} <= fixed
        # (CKV_K8S_114 is not among them: checkov does not see /usr/local/bin/kube-scheduler as the scheduler;
        # kharden does, and fixes its --profiling all the same)


def _texts(outcome):
    from kharden.render import splice

    by_file = {}
    for c in outcome.result.changes:
        by_file.setdefault(c.obj.file, []).append(c)
    return [splice.render(s, by_file.get(s.path, [])) for s in outcome.result.sources]


def test_flag_edits_are_changes_in_every_rendering(tmp_path):
    """Splice keeps every other byte; the diff and the JSON patch show the same edits."""
    from click.testing import CliRunner

    from kharden.cli import cli

    src = DATA / "insecure" / "kube-controller-manager.yaml"
    prof = tmp_path / "p.yaml"
    prof.write_text("description: t\nmutators:\n  controlPlane: {enabled: true}\n", encoding="utf-8")
    out = CliRunner().invoke(cli, ["fix", "-q", "-p", str(prof), str(src)]).output
    before, after = src.read_text(encoding="utf-8").splitlines(), out.splitlines()
    assert [ln for ln in after if ln not in before] == [
        "    - --terminated-pod-gc-threshold=12500", "    - --profiling=false",
        "    - --use-service-account-credentials=true", "    - --bind-address=127.0.0.1"]  # plain, as kubeadm's
    assert [ln for ln in before if ln not in after] == []
    patch = json.loads(CliRunner().invoke(cli, ["fix", "-q", "-p", str(prof), "--format", "jsonpatch", str(src)]).output)
    ops = patch["patches"][0]["patch"]
    assert [(o["op"], o["path"]) for o in ops] == [("add", f"/spec/containers/0/command/{i}") for i in range(4, 8)]
    diff = CliRunner().invoke(cli, ["fix", "-q", "-p", str(prof), "--diff", str(src)]).output
    assert "+    - --profiling=false" in diff


def test_docs_cluster_md_lists_every_item_and_rule():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "cluster.md").read_text(encoding="utf-8")
    for item in cis.items():
        assert f"`{item.what}`" in doc and (item.checkov is None or item.checkov in doc), item
    for rid in ("ingress.tls-missing", "ingress.http-allowed", "ingress.nginx-snippet", "ingress.nginx-injection",
                "ingress.nginx-vulnerable-controller", "gateway.http-only", "audit.secrets-body",
                "audit.no-catch-all", "audit.no-rules", "audit.request-received", "encryption.identity-first",
                "encryption.unknown-provider", "encryption.secrets-not-covered", "encryption.key-in-manifests"):
        assert f"`{rid}`" in doc, rid


def test_static_pods_keep_their_pod_settings_under_every_builtin_profile():
    """runAsNonRoot, memory limits or a ServiceAccount on etcd or the API server would stop the control plane:
    only the flags are hardened, and the PSS findings say why they stay."""
    files = sorted((DATA / "secure").iterdir())
    for profile in ("baseline", "restricted", "strict"):
        srcs = [parse_text(p.read_text(encoding="utf-8"), str(p)) for p in files]
        out = fix_sources(srcs, profile, generate=True)
        assert out.result.changes == [], profile
        assert not [g for g in out.result.generated if g["kind"] in ("ServiceAccount", "Role", "RoleBinding")]
        pss = [f for f in out.result.findings if f.rule.startswith("pss.") and f.status == "unfixed"]
        assert pss and all(f.reason.startswith("a control-plane static pod") for f in pss)


def test_a_scheduler_deployment_is_an_ordinary_workload():
    text = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: my-scheduler, namespace: scheduling}\n"
            "spec:\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: {app: s}}\n"
            "    spec:\n      containers:\n      - {name: s, image: registry.k8s.io/kube-scheduler:v1.31.2, "
            "command: [/usr/local/bin/kube-scheduler, --config=/etc/s.yaml]}\n")
    out = fix_sources([parse_text(text, "d.yaml")], "restricted", generate=False)
    mutators = {c.mutator for c in out.result.changes}
    assert "runAsNonRoot" in mutators and "controlPlane" in mutators  # --profiling=false too


def test_component_config_files_are_no_namespace_members():
    """A KubeletConfiguration or an audit Policy is read from disk: no NetworkPolicy is generated for it."""
    files = [DATA / "insecure" / "kubelet-config.yaml", Path(__file__).parent / "data" / "cluster" / "mixed.yaml"]
    srcs = [parse_text(p.read_text(encoding="utf-8"), str(p)) for p in files]
    out = fix_sources(srcs, "restricted", generate=True)
    assert {g["metadata"].get("namespace") for g in out.result.generated} <= {"web"}  # the Ingress's namespace only
