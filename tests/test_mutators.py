"""Unit tests of each mutator on small manifests: the resulting data, the Change records, idempotence."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kharden.errors import ProfileError
from kharden.mutators import MUTATORS, REGISTRY
from kharden.mutators.quantity import parse_quantity
from tests.mutating import container, mutate, pod_spec, profile, twice

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - name: app
    image: registry.example/web  # not in the image catalog: the profile's defaults apply
"""

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
spec:
  template:
    metadata:
      labels: {app: d}
    spec:
      containers:
      - name: app
        image: registry.example/web  # not in the image catalog: the profile's defaults apply
      - name: side
        image: envoy
"""


def pod(body: str, spec_extra: str = "") -> str:
    """A Pod whose only container has `body` (indented under it) and whose spec has `spec_extra`."""
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    extra = "".join(f"  {line}\n" for line in spec_extra.splitlines())
    return POD + lines + extra


def only(*ids: str, **opts: dict) -> object:
    return profile("restricted", only=list(ids), **opts)


# -- registry ----------------------------------------------------------------------------------------------------
def test_registry_ids_are_unique_camel_case_and_scoped() -> None:
    ids = [m.ID for m in REGISTRY]
    assert len(ids) == len(set(ids)) == 17
    for m in REGISTRY:
        assert m.ID[0].islower() and "-" not in m.ID and "_" not in m.ID
        assert m.SCOPE in ("pod", "object")
        assert m.__doc__ and "->" in m.__doc__, f"{m.ID}: the docstring shows a before/after"


def test_run_as_non_root_comes_before_run_as_user() -> None:
    ids = [m.ID for m in REGISTRY]
    assert ids.index("runAsNonRoot") < ids.index("runAsUser")
    assert ids.index("privileged") < ids.index("allowPrivilegeEscalation")
    assert ids.index("capabilities") < ids.index("allowPrivilegeEscalation")
    assert ids[0] == "apiVersions"  # a moved manifest is then hardened like any other in the same run


# -- the restricted profile on a bare pod ----------------------------------------------------------------------------
def test_restricted_on_a_bare_pod_gives_what_pss_restricted_asks() -> None:
    run = twice(POD)
    spec = pod_spec(run)
    assert spec["securityContext"] == {
        "seccompProfile": {"type": "RuntimeDefault"},
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
    }
    assert spec["automountServiceAccountToken"] is False
    c = spec["containers"][0]
    assert c["securityContext"] == {
        "privileged": False,
        "capabilities": {"drop": ["ALL"]},
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
    }
    assert c["volumeMounts"] == [{"name": "kharden-tmp", "mountPath": "/tmp"}]
    assert spec["volumes"] == [{"name": "kharden-tmp", "emptyDir": {}}]
    assert c["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    assert all(c.op == "add" and c.reason for c in run.changes)


def test_every_change_applies_as_its_json_patch() -> None:
    import jsonpatch
    import yaml

    run = mutate(DEPLOY)
    before = yaml.safe_load(DEPLOY)
    assert jsonpatch.apply_patch(before, [c.patch_op() for c in run.changes]) == run.data[0]


# -- privileged ---------------------------------------------------------------------------------------------------
def test_privileged_false_is_added_and_true_is_kept_without_enforce() -> None:
    run = twice(pod("securityContext:\n  privileged: true"), only("privileged"))
    assert container(run)["securityContext"]["privileged"] is True
    assert run.changes == []


def test_privileged_true_is_replaced_with_enforce() -> None:
    run = twice(pod("securityContext:\n  privileged: true"), only("privileged", privileged={"enforce": True}))
    assert container(run)["securityContext"]["privileged"] is False
    [change] = run.changes
    assert change.op == "replace" and change.old is True and "enforce" in change.reason


# -- allowPrivilegeEscalation ----------------------------------------------------------------------------------------
def test_allow_privilege_escalation_true_kept_unless_enforced() -> None:
    text = pod("securityContext:\n  allowPrivilegeEscalation: true")
    assert twice(text, only("allowPrivilegeEscalation")).changes == []
    run = twice(text, only("allowPrivilegeEscalation", allowPrivilegeEscalation={"enforce": True}))
    assert container(run)["securityContext"]["allowPrivilegeEscalation"] is False


def test_allow_privilege_escalation_not_added_beside_privileged_or_sys_admin() -> None:
    # The API server rejects allowPrivilegeEscalation: false with privileged: true or an added SYS_ADMIN.
    assert twice(pod("securityContext:\n  privileged: true"), only("allowPrivilegeEscalation")).changes == []
    text = pod("securityContext:\n  capabilities:\n    add: [SYS_ADMIN]")
    assert twice(text, only("allowPrivilegeEscalation")).changes == []


def test_allow_privilege_escalation_added_once_privileged_is_enforced_away() -> None:
    run = twice(pod("securityContext:\n  privileged: true"), "strict")
    sc = container(run)["securityContext"]
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False


# -- capabilities ------------------------------------------------------------------------------------------------
def test_capabilities_drop_is_merged_not_replaced() -> None:
    run = twice(pod("securityContext:\n  capabilities:\n    drop: [NET_RAW, chown]"), only("capabilities"))
    assert container(run)["securityContext"]["capabilities"]["drop"] == ["NET_RAW", "chown", "ALL"]
    [change] = run.changes
    assert change.path[-2:] == ("drop", 2) and change.op == "add"


def test_capabilities_all_already_dropped_changes_nothing() -> None:
    assert twice(pod("securityContext:\n  capabilities:\n    drop: [ALL]"), only("capabilities")).changes == []


def test_capabilities_lowercase_all_still_gets_all() -> None:
    run = twice(pod("securityContext:\n  capabilities:\n    drop: [all]"), only("capabilities"))
    assert container(run)["securityContext"]["capabilities"]["drop"] == ["all", "ALL"]


def test_capabilities_disallowed_add_kept_without_enforce() -> None:
    text = pod("securityContext:\n  capabilities:\n    add: [NET_ADMIN, NET_BIND_SERVICE]\n    drop: [ALL]")
    run = twice(text, only("capabilities"))
    assert container(run)["securityContext"]["capabilities"]["add"] == ["NET_ADMIN", "NET_BIND_SERVICE"]


def test_capabilities_disallowed_add_removed_with_enforce_allowed_kept() -> None:
    text = pod("securityContext:\n  capabilities:\n    add: [NET_ADMIN, NET_BIND_SERVICE, SYS_TIME]\n    drop: [ALL]")
    run = twice(text, only("capabilities", capabilities={"enforce": True}))
    assert container(run)["securityContext"]["capabilities"]["add"] == ["NET_BIND_SERVICE"]
    assert [c.path[-1] for c in run.changes] == [2, 0]  # from the end, so each index is still right


def test_capabilities_all_disallowed_removes_the_add_list() -> None:
    text = pod("securityContext:\n  capabilities:\n    add: [SYS_ADMIN]\n    drop: [ALL]")
    run = twice(text, only("capabilities", capabilities={"enforce": True}))
    assert container(run)["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_capabilities_allow_add_matches_with_or_without_cap_prefix() -> None:
    text = pod("securityContext:\n  capabilities:\n    add: [CAP_NET_BIND_SERVICE]\n    drop: [ALL]")
    # kept (never removed), and under enforce written as PSS spells it: the PSS check compares exactly (issue 21)
    run = twice(text, only("capabilities", capabilities={"enforce": True}))
    assert [(c.old, c.new) for c in run.changes] == [("CAP_NET_BIND_SERVICE", "NET_BIND_SERVICE")]
    assert twice(text, only("capabilities")).changes == []


# -- seccompProfile ----------------------------------------------------------------------------------------------
def test_seccomp_pod_field_added_unless_every_container_has_one() -> None:
    run = twice(POD, only("seccompProfile"))
    assert pod_spec(run)["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}
    text = pod("securityContext:\n  seccompProfile: {type: Localhost, localhostProfile: my.json}")
    assert twice(text, only("seccompProfile")).changes == []


def test_seccomp_existing_pod_profile_is_never_overwritten() -> None:
    text = pod("", "securityContext:\n  seccompProfile:\n    type: Localhost\n    localhostProfile: p.json")
    assert twice(text, only("seccompProfile")).changes == []


SECCOMP_ANNOTATED = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: localhost/profiles/audit.json
    container.seccomp.security.alpha.kubernetes.io/app: runtime/default
    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-nginx
    keep: me
spec:
  containers:
  - name: app
    image: registry.example/web  # not in the image catalog: the profile's defaults apply
"""


def test_seccomp_and_apparmor_annotations_migrate_to_fields() -> None:
    run = twice(SECCOMP_ANNOTATED, only("seccompProfile"))
    assert run.data[0]["metadata"]["annotations"] == {"keep": "me"}
    spec = pod_spec(run)
    assert spec["securityContext"]["seccompProfile"] == {"type": "Localhost", "localhostProfile": "profiles/audit.json"}
    sc = spec["containers"][0]["securityContext"]
    assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert sc["appArmorProfile"] == {"type": "Localhost", "localhostProfile": "k8s-nginx"}


def test_seccomp_last_annotation_removes_the_empty_mapping() -> None:
    annotation = "  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: docker/default\n"
    text = POD.replace("  name: p\n", "  name: p\n" + annotation)
    run = twice(text, only("seccompProfile"))
    assert "annotations" not in run.data[0]["metadata"]
    assert pod_spec(run)["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}


UNCONFINED = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    seccomp.security.alpha.kubernetes.io/pod: unconfined
    container.apparmor.security.beta.kubernetes.io/app: unconfined
spec:
  containers:
  - name: app
    image: registry.example/web  # not in the image catalog: the profile's defaults apply
    securityContext:
      seccompProfile: {type: Unconfined}
"""


def test_seccomp_unconfined_kept_without_enforce() -> None:
    assert twice(UNCONFINED, only("seccompProfile")).changes == []


def test_seccomp_unconfined_replaced_with_enforce() -> None:
    run = twice(UNCONFINED, only("seccompProfile", seccompProfile={"enforce": True}))
    assert "annotations" not in run.data[0]["metadata"]
    spec = pod_spec(run)
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["containers"][0]["securityContext"] == {
        "seccompProfile": {"type": "RuntimeDefault"},
        "appArmorProfile": {"type": "RuntimeDefault"},
    }
    assert all("enforce" in c.reason for c in run.changes if c.op == "replace")


def test_seccomp_annotation_disagreeing_with_field_is_left_alone() -> None:
    text = UNCONFINED.replace("unconfined\n    container", "runtime/default\n    container").replace(
        "      seccompProfile: {type: Unconfined}\n", "      seccompProfile: {type: Unconfined}\n"
    )
    pod_field = "  securityContext:\n    seccompProfile: {type: Localhost, localhostProfile: x}\n"
    text = text.replace("spec:\n  containers", "spec:\n" + pod_field + "  containers")
    run = twice(text, only("seccompProfile"))
    assert "seccomp.security.alpha.kubernetes.io/pod" in run.data[0]["metadata"]["annotations"]


# -- runAsNonRoot ------------------------------------------------------------------------------------------------
def test_run_as_non_root_added_at_pod_level() -> None:
    run = twice(POD, only("runAsNonRoot"))
    assert pod_spec(run)["securityContext"] == {"runAsNonRoot": True}


@pytest.mark.parametrize(
    "body, spec_extra",
    [
        ("securityContext:\n  runAsUser: 0", ""),
        ("", "securityContext:\n  runAsUser: 0"),
        ("", "securityContext:\n  runAsNonRoot: false"),
    ],
)
def test_run_as_non_root_leaves_explicit_root_without_enforce(body: str, spec_extra: str) -> None:
    assert twice(pod(body, spec_extra), only("runAsNonRoot", "runAsUser")).paths("runAsNonRoot") == []


def test_run_as_non_root_enforce_removes_root_and_run_as_user_supplies_a_user() -> None:
    text = pod("securityContext:\n  runAsUser: 0", "securityContext:\n  runAsNonRoot: false\n  runAsUser: 0")
    run = twice(text, only("runAsNonRoot", "runAsUser", runAsNonRoot={"enforce": True}))
    spec = pod_spec(run)
    assert spec["securityContext"] == {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001}
    assert "runAsUser" not in spec["containers"][0]["securityContext"]
    ops = [(c.mutator, c.op, c.path[-1]) for c in run.changes]
    assert ("runAsNonRoot", "replace", "runAsNonRoot") in ops and ("runAsNonRoot", "remove", "runAsUser") in ops


def test_run_as_non_root_container_false_stays_without_enforce() -> None:
    run = twice(pod("securityContext:\n  runAsNonRoot: false"), only("runAsNonRoot"))
    assert container(run)["securityContext"]["runAsNonRoot"] is False


def test_run_as_non_root_on_windows_pods_too() -> None:
    run = twice(pod("", "os:\n  name: windows"), only("runAsNonRoot"))
    assert pod_spec(run)["securityContext"] == {"runAsNonRoot": True}


# -- runAsUser ---------------------------------------------------------------------------------------------------
def test_run_as_user_never_changes_a_present_value() -> None:
    run = twice(pod("", "securityContext:\n  runAsUser: 1000\n  runAsGroup: 0"), only("runAsUser"))
    assert pod_spec(run)["securityContext"] == {"runAsUser": 1000, "runAsGroup": 0, "fsGroup": 10001}


def test_run_as_user_not_at_pod_level_when_every_container_sets_it() -> None:
    run = twice(pod("securityContext:\n  runAsUser: 1000"), only("runAsUser"))
    assert "runAsUser" not in pod_spec(run)["securityContext"]


def test_run_as_user_options_choose_the_ids_and_null_skips() -> None:
    run = twice(POD, only("runAsUser", runAsUser={"runAsUser": 20000, "fsGroup": None}))
    assert pod_spec(run)["securityContext"] == {"runAsUser": 20000, "runAsGroup": 10001}


# -- Windows -----------------------------------------------------------------------------------------------------
def test_windows_pods_get_no_linux_only_fields() -> None:
    run = twice(pod("", "os:\n  name: windows"), "strict")
    spec = pod_spec(run)
    assert spec.get("securityContext") == {"runAsNonRoot": True}
    c = spec["containers"][0]
    assert "securityContext" not in c and "volumeMounts" not in c
    assert {ch.mutator for ch in run.changes} == {"runAsNonRoot", "resources", "automountServiceAccountToken"}


# -- automountServiceAccountToken --------------------------------------------------------------------------------------
def test_automount_false_added_true_kept_unless_enforced() -> None:
    assert pod_spec(twice(POD, only("automountServiceAccountToken")))["automountServiceAccountToken"] is False
    text = pod("", "automountServiceAccountToken: true")
    assert twice(text, only("automountServiceAccountToken")).changes == []
    run = twice(text, only("automountServiceAccountToken", automountServiceAccountToken={"enforce": True}))
    assert pod_spec(run)["automountServiceAccountToken"] is False


# -- host namespaces, host ports, procMount ------------------------------------------------------------------------
def test_host_namespaces_only_with_enforce() -> None:
    text = pod("", "hostNetwork: true\nhostPID: true\nhostIPC: false")
    assert twice(text, only("hostNamespaces")).changes == []
    run = twice(text, only("hostNamespaces", hostNamespaces={"enforce": True}))
    spec = pod_spec(run)
    assert (spec["hostNetwork"], spec["hostPID"], spec["hostIPC"]) == (False, False, False)
    assert len(run.changes) == 2


def test_host_ports_removed_only_with_enforce() -> None:
    text = pod("ports:\n- containerPort: 80\n  hostPort: 80\n- containerPort: 81\n  hostPort: 0")
    assert twice(text, only("hostPorts")).changes == []
    run = twice(text, only("hostPorts", hostPorts={"enforce": True}))
    assert container(run)["ports"] == [{"containerPort": 80}, {"containerPort": 81, "hostPort": 0}]


def test_proc_mount_only_with_enforce() -> None:
    text = pod("securityContext:\n  procMount: Unmasked")
    assert twice(text, only("procMount")).changes == []
    run = twice(text, only("procMount", procMount={"enforce": True}))
    assert container(run)["securityContext"]["procMount"] == "Default"


# -- readOnlyRootFilesystem --------------------------------------------------------------------------------------
def test_read_only_root_one_volume_per_path_shared_by_containers() -> None:
    run = twice(DEPLOY, only("readOnlyRootFilesystem"))
    spec = pod_spec(run)
    assert spec["volumes"] == [{"name": "kharden-tmp", "emptyDir": {}}]
    for c in spec["containers"]:
        assert c["securityContext"] == {"readOnlyRootFilesystem": True}
        assert c["volumeMounts"] == [{"name": "kharden-tmp", "mountPath": "/tmp"}]


def test_read_only_root_existing_mount_at_the_path_is_respected() -> None:
    text = pod("volumeMounts:\n- name: scratch\n  mountPath: /tmp/", "volumes:\n- name: scratch\n  emptyDir: {}")
    run = twice(text, only("readOnlyRootFilesystem"))
    assert pod_spec(run)["volumes"] == [{"name": "scratch", "emptyDir": {}}]


def test_read_only_root_never_clashes_with_an_existing_volume_name() -> None:
    text = pod("", "volumes:\n- name: kharden-tmp\n  configMap: {name: c}")
    paths = {"writablePaths": ["/tmp", "/var/cache/nginx"]}
    run = twice(text, only("readOnlyRootFilesystem", readOnlyRootFilesystem=paths))
    spec = pod_spec(run)
    assert [v["name"] for v in spec["volumes"]] == ["kharden-tmp", "kharden-tmp-2", "kharden-var-cache-nginx"]
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["kharden-tmp-2", "kharden-var-cache-nginx"]


def test_read_only_root_reuses_the_volume_it_added_for_a_new_container() -> None:
    first = twice(POD, only("readOnlyRootFilesystem")).text
    grown = first.replace("  volumes:", "  - name: late\n    image: busybox\n  volumes:")
    run = twice(grown, only("readOnlyRootFilesystem"))
    spec = pod_spec(run)
    assert spec["volumes"] == [{"name": "kharden-tmp", "emptyDir": {}}]
    assert spec["containers"][1]["volumeMounts"] == [{"name": "kharden-tmp", "mountPath": "/tmp"}]


def test_read_only_root_false_kept_unless_enforced() -> None:
    text = pod("securityContext:\n  readOnlyRootFilesystem: false")
    assert twice(text, only("readOnlyRootFilesystem")).changes == []
    run = twice(text, only("readOnlyRootFilesystem", readOnlyRootFilesystem={"enforce": True}))
    assert container(run)["securityContext"]["readOnlyRootFilesystem"] is True
    assert container(run)["volumeMounts"] == [{"name": "kharden-tmp", "mountPath": "/tmp"}]


def test_read_only_root_set_by_the_user_gets_no_mounts() -> None:
    assert twice(pod("securityContext:\n  readOnlyRootFilesystem: true"), only("readOnlyRootFilesystem")).changes == []


# -- resources ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, value",
    [("100m", Decimal("0.1")), ("1.5Gi", Decimal(3 * 2**29)), ("1e3", Decimal(1000)), ("2", Decimal(2)),
     (2, Decimal(2)), ("500M", Decimal(500 * 10**6)), ("1k", Decimal(1000)), ("1Ki", Decimal(1024)),
     (".5", Decimal("0.5")), ("12E-1", Decimal("1.2"))],
)
def test_quantities_parse(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1Gb", "{{ .Values.mem }}", True, None, "1.2.3"])
def test_non_quantities_do_not_parse(text: object) -> None:
    assert parse_quantity(text) is None


def test_resources_added_limit_is_at_least_the_existing_request() -> None:
    run = twice(pod("resources:\n  requests:\n    memory: 1Gi\n    cpu: '2'"), only("resources"))
    res = container(run)["resources"]
    assert res["limits"] == {"memory": "1Gi", "cpu": "2"}  # max(default 512Mi, 1Gi), max(default 1, 2)
    assert all("raised" in c.reason for c in run.changes)


def test_resources_added_request_equals_an_existing_limit() -> None:
    run = twice(pod("resources:\n  limits:\n    memory: 64Mi\n    cpu: 4"), only("resources"))
    assert container(run)["resources"]["requests"] == {"cpu": 4, "memory": "64Mi"}


def test_resources_leave_present_values_and_non_quantities_alone() -> None:
    text = pod("resources:\n  requests:\n    cpu: '{{ cpu }}'\n  limits:\n    memory: 300Mi")
    run = twice(text, only("resources"))
    res = container(run)["resources"]
    assert res == {"requests": {"cpu": "{{ cpu }}", "memory": "300Mi"}, "limits": {"memory": "300Mi"}}


def test_resources_ephemeral_storage_where_the_profile_asks_and_not_on_ephemeral_containers() -> None:
    text = pod("", "ephemeralContainers:\n- name: debug\n  image: busybox")
    run = twice(text, "strict")
    assert container(run)["resources"]["limits"]["ephemeral-storage"] == "1Gi"
    assert "resources" not in container(run, kind="ephemeralContainers")


def test_resources_bad_quantity_in_the_profile_is_a_profile_error() -> None:
    with pytest.raises(ProfileError, match="requests.cpu"):
        mutate(POD, only("resources", resources={"requests": {"cpu": "lots"}}))


# -- namespaceLabels ---------------------------------------------------------------------------------------------
NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: privileged
    pod-security.kubernetes.io/warn: restricted
"""


def test_namespace_labels_add_only_absent_ones() -> None:
    run = twice(NAMESPACE, only("namespaceLabels"))
    assert run.data[0]["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": "latest",
    }


def test_namespace_labels_never_loosen_and_raise_only_with_enforce() -> None:
    run = twice(NAMESPACE, profile("baseline", only=["namespaceLabels"], namespaceLabels={"enforce": True}))
    labels = run.data[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"  # raised from privileged
    assert labels["pod-security.kubernetes.io/warn"] == "restricted"  # never lowered to the profile's
    run = twice(NAMESPACE.replace("privileged", "restricted"), profile("baseline", only=["namespaceLabels"]))
    assert run.data[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_namespace_labels_skip_system_namespaces_and_other_kinds() -> None:
    assert twice(NAMESPACE.replace("shop", "kube-system"), only("namespaceLabels")).changes == []
    assert twice(POD, only("namespaceLabels")).changes == []


# -- every kind, every container list ------------------------------------------------------------------------------
CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: c
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          initContainers:
          - name: init
            image: busybox
            restartPolicy: Always
          containers:
          - name: app
            image: busybox
          restartPolicy: OnFailure
"""


def test_cronjob_and_init_sidecar_containers_are_hardened() -> None:
    run = twice(CRONJOB)
    spec = run.data[0]["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    for c in spec["initContainers"] + spec["containers"]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert spec["securityContext"]["runAsNonRoot"] is True


def test_unknown_kinds_pass_through_untouched() -> None:
    text = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n"
    text += "spec:\n  template:\n    spec:\n      containers: []\n"
    assert mutate(text, "strict").changes == []


def test_every_registered_mutator_is_enabled_in_strict() -> None:
    assert set(profile("strict").enabled_mutators()) == set(MUTATORS)


# -- the whole corpus ------------------------------------------------------------------------------------------------
from tests.conftest import corpus_files  # noqa: E402

CORPUS_FILES = corpus_files()


@pytest.mark.parametrize("path", CORPUS_FILES, ids=[str(p.relative_to(p.parents[2])) for p in CORPUS_FILES])
def test_corpus_restricted_runs_and_a_second_run_changes_nothing(path: object) -> None:
    from kharden.errors import InputError
    from kharden.read import parse_text

    text = path.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    try:
        parse_text(text, str(path))
    except InputError:
        pytest.skip("does not parse")
    twice(text, "restricted")  # renders, re-reads, re-runs: no exception, no second change


def test_corpus_strict_is_idempotent_on_the_data() -> None:
    """strict rewrites explicit values too; run it twice over the live objects of every corpus file."""
    from kharden import pipeline
    from kharden.profile import load_profile
    from kharden.read import parse_text

    prof = load_profile("strict")
    total = 0
    for path in CORPUS_FILES:
        objects = list(parse_text(path.read_text(encoding="utf-8"), str(path)).objects())
        first: list = []
        pipeline.mutate(objects, prof, first, [])
        again: list = []
        pipeline.mutate(objects, prof, again, [])
        assert again == [], f"{path}: {[(c.mutator, c.path) for c in again][:3]}"
        total += len(first)
    assert total > 1000 or not CORPUS_FILES


def test_strict_renders_a_removed_last_key_followed_by_an_addition() -> None:
    text = pod("ports:\n- containerPort: 80\n  hostPort: 80")
    run = twice(text, "strict")
    assert container(run)["ports"] == [{"containerPort": 80}]
