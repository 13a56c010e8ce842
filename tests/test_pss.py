"""Pod Security Standards checker: version pinning, findings' shape and lines, workload templates."""

from __future__ import annotations

import textwrap

import pytest

from kharden.checks.pss import LATEST, LEVELS, NOT_FIXABLE, REGISTRY, active_checks, check_objects, parse_version
from kharden.errors import UsageError
from kharden.model import Finding
from kharden.read import parse_text

# A Pod that passes restricted at every version; tests change one thing in it.
GOOD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext:
    runAsNonRoot: true
    seccompProfile:
      type: RuntimeDefault
  containers:
  - name: app
    image: nginx
    securityContext:
      allowPrivilegeEscalation: false
      capabilities:
        drop: [ALL]
"""


def run(text: str, level: str = "restricted", version: str = "latest") -> list[Finding]:
    return check_objects(list(parse_text(textwrap.dedent(text), "in.yaml").objects()), level, version)


def rules(text: str, level: str = "restricted", version: str = "latest") -> set[str]:
    return {f.rule for f in run(text, level, version)}


def with_pod(extra: str) -> str:
    """GOOD with lines added under `spec:`."""
    return GOOD.replace("spec:\n", "spec:\n" + textwrap.indent(textwrap.dedent(extra), "  "), 1)


def with_container(extra: str) -> str:
    """GOOD with lines added under the container's securityContext."""
    anchor = "      allowPrivilegeEscalation: false\n"
    return GOOD.replace(anchor, anchor + textwrap.indent(textwrap.dedent(extra), "      "), 1)


def test_the_good_pod_passes_at_every_version() -> None:
    for minor in range(0, 38):
        assert run(GOOD, "restricted", f"1.{minor}") == [], minor


# --- versions -----------------------------------------------------------------------------------------------------


def test_run_as_user_0_is_allowed_before_1_23() -> None:
    pod = with_container("runAsUser: 0\n")
    assert rules(pod, version="1.22") == set()
    assert rules(pod, version="1.23") == {"pss.runAsUser"}
    assert rules(pod) == {"pss.runAsUser"}


def test_capabilities_restricted_since_1_22_and_baseline_capabilities_before() -> None:
    pod = GOOD.replace("drop: [ALL]", "add: [SYS_ADMIN]")
    assert rules(pod, version="1.21") == {"pss.capabilities_baseline"}
    assert rules(pod, version="1.22") == {"pss.capabilities_restricted"}
    assert rules(pod, "baseline") == {"pss.capabilities_baseline"}


def test_windows_pods_are_exempt_from_linux_only_controls_since_1_25() -> None:
    pod = textwrap.dedent(
        """\
        apiVersion: v1
        kind: Pod
        metadata: {name: win}
        spec:
          os: {name: windows}
          securityContext: {runAsNonRoot: true}
          containers:
          - name: app
            image: mcr.microsoft.com/windows/nanoserver
        """
    )
    assert rules(pod, version="1.24") == {
        "pss.allowPrivilegeEscalation",
        "pss.seccompProfile_restricted",
        "pss.capabilities_restricted",
    }
    assert rules(pod, version="1.25") == set()


@pytest.mark.parametrize(
    ("sysctl", "since"),
    [
        ("kernel.shm_rmid_forced", "1.0"),
        ("net.ipv4.ip_local_reserved_ports", "1.27"),
        ("net.ipv4.tcp_keepalive_time", "1.29"),
        ("net.ipv4.tcp_rmem", "1.32"),
        ("net.ipv4.tcp_slow_start_after_idle", "1.37"),
    ],
)
def test_the_safe_sysctls_grow_by_version(sysctl: str, since: str) -> None:
    sysctls = f"    sysctls:\n    - {{name: {sysctl}, value: '1'}}\n"
    pod = GOOD.replace("    runAsNonRoot: true\n", "    runAsNonRoot: true\n" + sysctls)
    minor = int(since.split(".")[1])
    if minor > 0:
        assert rules(pod, "baseline", f"1.{minor - 1}") == {"pss.sysctls"}
    assert rules(pod, "baseline", since) == set()
    assert rules(pod, "restricted") == set()


def test_unsafe_sysctl_is_reported_at_its_name() -> None:
    (f,) = run("""\
        apiVersion: v1
        kind: Pod
        metadata: {name: p}
        spec:
          securityContext:
            sysctls:
            - name: kernel.msgmax
              value: "1"
          containers: [{name: c, image: i}]
        """, "baseline")
    assert (f.rule, f.line, f.path) == ("pss.sysctls", 7, ("spec", "securityContext", "sysctls", 0, "name"))


def test_container_engine_t_is_allowed_since_1_31() -> None:
    pod = with_container("seLinuxOptions: {type: container_engine_t}\n")
    assert rules(pod, "baseline", "1.30") == {"pss.seLinuxOptions"}
    assert rules(pod, "baseline", "1.31") == set()


def test_probe_hosts_are_forbidden_since_1_34() -> None:
    pod = GOOD + "    livenessProbe:\n      tcpSocket: {host: 10.0.0.1, port: 80}\n"
    assert rules(pod, "baseline", "1.33") == set()
    assert rules(pod, "baseline", "1.34") == {"pss.hostProbesAndHostLifecycle"}


def test_user_namespaces_relax_proc_mount_in_baseline_only_since_1_35() -> None:
    pod = with_pod("hostUsers: false\n").replace("drop: [ALL]", "drop: [ALL]\n      procMount: Unmasked")
    assert rules(pod, "baseline", "1.34") == {"pss.procMount"}
    assert rules(pod, "baseline", "1.35") == set()
    assert rules(pod, "restricted", "1.34") == {"pss.procMount"}
    assert rules(pod, "restricted", "1.35") == {"pss.procMount_restricted"}


def test_user_namespaces_relax_run_as_non_root_and_run_as_user_since_1_35() -> None:
    pod = with_pod("hostUsers: false\n").replace("runAsNonRoot: true", "runAsUser: 0")
    assert rules(pod, version="1.34") == {"pss.runAsNonRoot", "pss.runAsUser"}
    assert rules(pod, version="1.35") == set()


def test_seccomp_annotations_before_1_19_and_the_field_after() -> None:
    annotation = "  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: unconfined\n"
    pod = GOOD.replace("  name: web\n", "  name: web\n" + annotation)
    assert rules(pod, "baseline", "1.18") == {"pss.seccompProfile_baseline"}
    assert rules(pod, "baseline", "1.19") == set()
    field = GOOD.replace("type: RuntimeDefault", "type: Unconfined")
    assert rules(field, "baseline", "1.18") == set()
    assert rules(field, "baseline", "1.19") == {"pss.seccompProfile_baseline"}
    assert rules(field, "restricted", "1.19") == {"pss.seccompProfile_restricted"}


def test_allow_privilege_escalation_exists_since_1_8() -> None:
    pod = GOOD.replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
    assert rules(pod, version="1.7") == set()
    assert rules(pod, version="1.8") == {"pss.allowPrivilegeEscalation"}


def test_version_forms() -> None:
    assert parse_version("latest") == parse_version(LATEST) == parse_version("v" + LATEST) == (1, 37)
    assert parse_version("1.99") == (1, 37)  # newer than the newest policy: judged as the newest
    for bad in ("2.0", "1", "one.two", ""):
        with pytest.raises(UsageError):
            parse_version(bad)
    with pytest.raises(UsageError):
        check_objects([], "privileged")


def test_restricted_includes_baseline_without_the_overridden_checks() -> None:
    baseline = {c.id for c, _ in active_checks("baseline")}
    restricted = {c.id for c, _ in active_checks("restricted")}
    overridden = {"capabilities_baseline", "hostPathVolumes", "seccompProfile_baseline", "procMount"}
    assert baseline - restricted == overridden
    assert len(baseline) == 12 and len(restricted) == 15
    assert "hostProbesAndHostLifecycle" not in {c.id for c, _ in active_checks("baseline", "1.33")}


# --- what a finding says and where --------------------------------------------------------------------------------


def test_a_missing_field_points_at_the_nearest_existing_parent() -> None:
    pod = GOOD.replace("      allowPrivilegeEscalation: false\n", "")
    (f,) = run(pod)
    assert f.rule == "pss.allowPrivilegeEscalation"
    assert f.message == 'container "app" must set securityContext.allowPrivilegeEscalation=false'
    assert f.path == ("spec", "containers", 0, "securityContext", "allowPrivilegeEscalation")
    # The container's securityContext: its key line or its first field's, as kharden.read places a missing field.
    assert f.line in (13, 14)
    assert (f.severity, f.obj and f.obj.name, f.extra) == ("error", "web", {"level": "restricted", "container": "app"})


def test_an_offending_field_is_reported_at_its_own_line() -> None:
    pod = with_container("privileged: true\n")
    (f,) = run(pod, "baseline")
    assert (f.rule, f.line, f.extra["container"]) == ("pss.privileged", 15, "app")
    assert f.path == ("spec", "containers", 0, "securityContext", "privileged")


def test_run_as_non_root_missing_everywhere_is_one_pod_level_finding() -> None:
    pod = GOOD.replace("    runAsNonRoot: true\n", "")
    (f,) = run(pod)
    assert f.message == 'pod or container "app" must set securityContext.runAsNonRoot=true'
    assert f.path == ("spec", "securityContext", "runAsNonRoot")
    assert f.line in (6, 7)  # the pod's securityContext
    assert (f.extra["container"], f.extra["containers"]) == (None, ["app"])


def test_init_and_ephemeral_containers_are_judged_too() -> None:
    pod = GOOD + "  initContainers:\n  - {name: init, image: i}\n  ephemeralContainers:\n  - {name: debug, image: i}\n"
    found = {(f.rule, f.extra["container"]) for f in run(pod)}
    for name in ("init", "debug"):
        assert ("pss.allowPrivilegeEscalation", name) in found
        assert ("pss.capabilities_restricted", name) in found


def test_container_level_settings_override_the_pod() -> None:
    pod = with_container("runAsNonRoot: false\nseccompProfile: {type: Unconfined}\n")
    found = {(f.rule, f.message) for f in run(pod)}
    assert found == {
        ("pss.runAsNonRoot", 'container "app" must not set securityContext.runAsNonRoot=false'),
        (
            "pss.seccompProfile_restricted",
            'container "app" must not set securityContext.seccompProfile.type to "Unconfined"',
        ),
    }


def test_a_volume_without_a_source_is_an_empty_dir() -> None:
    assert rules(GOOD + "  volumes:\n  - name: scratch\n") == set()
    (f,) = run(GOOD + "  volumes:\n  - name: data\n    nfs: {server: s, path: /}\n")
    assert (f.rule, f.message) == ("pss.restrictedVolumes", 'volume "data" uses restricted volume type "nfs"')


# --- workloads ----------------------------------------------------------------------------------------------------

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  template:
    metadata:
      annotations:
        container.apparmor.security.beta.kubernetes.io/app: runtime/default
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: api
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            container.apparmor.security.beta.kubernetes.io/job: unconfined
        spec:
          containers:
          - name: job
            image: job
            securityContext:
              privileged: true
"""


def test_pod_templates_of_deployments_and_cronjobs() -> None:
    found = [(f.obj.kind if f.obj else "", f.rule, f.line, f.path) for f in run(DEPLOYMENT, "baseline")]
    template = ("spec", "jobTemplate", "spec", "template")
    assert found == [
        ("Deployment", "pss.hostNamespaces", 13, ("spec", "template", "spec", "hostNetwork")),
        ("CronJob", "pss.privileged", 35, template + ("spec", "containers", 0, "securityContext", "privileged")),
        (
            "CronJob",
            "pss.appArmorProfile",
            29,
            template + ("metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/job"),
        ),
    ]


def test_the_registry_is_documented_and_not_fixable_names_real_rules() -> None:
    assert LEVELS == ("baseline", "restricted")
    for check in REGISTRY:
        assert check.level in LEVELS and check.requires
        for versioned in check.versions:
            assert versioned.fn.__doc__, check.id
    assert set(NOT_FIXABLE) <= {f"pss.{c.id}" for c in REGISTRY}
    assert all(reason.strip() for reason in NOT_FIXABLE.values())


def test_the_control_table_in_docs_lists_every_check_with_its_level_and_versions() -> None:
    from pathlib import Path

    table = (Path(__file__).resolve().parents[1] / "docs" / "pss.md").read_text()
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) == 6 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    assert set(rows) == {c.id for c in REGISTRY}
    for check in REGISTRY:
        _, level, since, changed, _, fixable = rows[check.id]
        versions = [f"{v.since[0]}.{v.since[1]}" for v in check.versions]
        assert (level, since) == (check.level, versions[0]), check.id
        for later in versions[1:]:
            assert later in changed, (check.id, later)
        assert fixable.startswith("no") == (f"pss.{check.id}" in NOT_FIXABLE), check.id


def test_ill_typed_fields_do_not_crash_the_checker() -> None:
    odd = """\
        apiVersion: v1
        kind: Pod
        metadata: {name: odd, annotations: null}
        spec:
          securityContext: [1, 2]
          volumes: [null, 3, {name: v, hostPath: null}]
          containers:
          - null
          - name: a
            securityContext: {capabilities: {add: SYS_ADMIN, drop: ALL}, seccompProfile: Unconfined}
            ports: [null, {hostPort: "80"}]
            livenessProbe: {httpGet: null, tcpSocket: {host: ""}}
            lifecycle: [1]
          ephemeralContainers: {}
        """
    found = {(f.rule, f.extra["container"]) for f in run(odd)}
    assert ("pss.capabilities_restricted", "a") in found  # a string is not a list that holds ALL
    assert ("pss.allowPrivilegeEscalation", "a") in found
    assert not {r for r, _ in found} & {"pss.hostPathVolumes", "pss.hostPorts", "pss.hostProbesAndHostLifecycle"}


def test_every_control_is_fixed_by_a_mutator_or_says_why_not() -> None:
    from kharden.checks.pss import FIXED_BY
    from kharden.mutators import MUTATORS

    rules = {f"pss.{c.id}" for c in REGISTRY}
    assert set(FIXED_BY) | set(NOT_FIXABLE) == rules and not set(FIXED_BY) & set(NOT_FIXABLE)
    assert set(FIXED_BY.values()) <= set(MUTATORS)


def _left(text: str, prof: object) -> dict[str, str]:
    """rule -> the reason `fix` gives for leaving that violation."""
    from kharden import run

    outcome = run.fix_sources([parse_text(textwrap.dedent(text), "t.yaml")], prof, generate=False)  # type: ignore[arg-type]
    return {f.rule: f.reason or "" for f in outcome.result.findings if f.status == "unfixed"}


BARE_POD = """\
    apiVersion: v1
    kind: Pod
    metadata: {name: p}
    spec:
      containers:
      - name: a
        image: b
"""


def test_a_violation_left_because_the_profile_turns_its_mutator_off_says_so() -> None:
    from tests.mutating import profile

    off = profile("restricted", only=["privileged", "capabilities", "allowPrivilegeEscalation", "runAsUser"])
    left = _left(BARE_POD, off)
    assert left["pss.seccompProfile_restricted"] == "the profile turns the seccompProfile mutator off"
    assert left["pss.runAsNonRoot"] == "the profile turns the runAsNonRoot mutator off"
    assert not any("explicit value" in reason for reason in left.values())


def test_run_as_non_root_left_beside_a_root_user_names_the_root_user() -> None:
    left = _left(BARE_POD + "      securityContext: {runAsUser: 0}\n", "restricted")
    assert "runAsUser: 0" in left["pss.runAsNonRoot"] and "strict" in left["pss.runAsNonRoot"]
    assert left["pss.runAsUser"].startswith("an explicit value kharden does not overwrite")
