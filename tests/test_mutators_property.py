"""Property: for any pod built from the fields the mutators read, every built-in profile is idempotent and nothing
already secure is loosened. (On the data: rendering has its own tests, and the corpus tests render.)"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kharden import pipeline
from kharden.read import parse_text
from tests.mutating import profile

maybe = lambda s: st.one_of(st.none(), s)  # noqa: E731
BOOLS = maybe(st.booleans())
CAPS = maybe(st.lists(st.sampled_from(["ALL", "all", "NET_RAW", "SYS_ADMIN", "NET_BIND_SERVICE", "CHOWN"]), max_size=3))
UIDS = maybe(st.sampled_from([0, 1, 1000, 10001]))
SECCOMP = maybe(st.sampled_from([{"type": "RuntimeDefault"}, {"type": "Unconfined"}, {"type": "Localhost", "localhostProfile": "p.json"}]))
QUANTITY = maybe(st.sampled_from(["50m", "2", "64Mi", "1Gi", "3G", 1]))


def _prune(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def containers(draw: Any, name: str) -> dict[str, Any]:
    caps = _prune({"add": draw(CAPS), "drop": draw(CAPS)})
    sc = _prune({
        "privileged": draw(BOOLS), "allowPrivilegeEscalation": draw(BOOLS), "runAsNonRoot": draw(BOOLS),
        "runAsUser": draw(UIDS), "readOnlyRootFilesystem": draw(BOOLS), "seccompProfile": draw(SECCOMP),
        "procMount": draw(maybe(st.sampled_from(["Default", "Unmasked"]))), "capabilities": caps or None,
    })
    res = _prune({
        "requests": _prune({"cpu": draw(QUANTITY), "memory": draw(QUANTITY)}) or None,
        "limits": _prune({"cpu": draw(QUANTITY), "memory": draw(QUANTITY)}) or None,
    })
    mounts = draw(maybe(st.just([{"name": "scratch", "mountPath": "/tmp"}])))
    ports = draw(maybe(st.just([{"containerPort": 80, "hostPort": 80}])))
    return _prune({"name": name, "image": "x", "securityContext": sc or None, "resources": res or None,
                   "volumeMounts": mounts, "ports": ports})


@st.composite
def pods(draw: Any) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    spec = _prune({
        "os": draw(maybe(st.just({"name": "windows"}))),
        "hostNetwork": draw(BOOLS), "automountServiceAccountToken": draw(BOOLS),
        "securityContext": _prune({"runAsNonRoot": draw(BOOLS), "runAsUser": draw(UIDS),
                                   "seccompProfile": draw(SECCOMP)}) or None,
        "containers": [draw(containers(n)) for n in names],
        "volumes": [{"name": "scratch", "emptyDir": {}}, {"name": "kharden-tmp", "configMap": {"name": "c"}}],
    })
    annotations = {}
    if draw(st.booleans()):
        annotations[f"skip.kharden.dev/{draw(st.sampled_from(['capabilities', 'runAsNonRoot', 'seccompProfile']))}"
                    f".{names[0]}"] = "because"
    if draw(st.booleans()):
        annotations["seccomp.security.alpha.kubernetes.io/pod"] = draw(
            st.sampled_from(["runtime/default", "unconfined", "localhost/p.json"]))
    meta = _prune({"name": "p", "annotations": annotations or None})
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


SECURE = {"privileged": False, "allowPrivilegeEscalation": False, "runAsNonRoot": True, "readOnlyRootFilesystem": True}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pods(), st.sampled_from(["baseline", "restricted", "strict"]), st.booleans())
def test_any_pod_is_hardened_idempotently_and_never_loosened(pod: dict[str, Any], name: str, flow: bool) -> None:
    text = yaml.safe_dump(pod, sort_keys=False, default_flow_style=flow)
    prof = profile(name)
    objects = list(parse_text(text, "t.yaml").objects())
    first: list[Any] = []
    pipeline.mutate(objects, prof, first, [])
    again: list[Any] = []
    pipeline.mutate(objects, prof, again, [])
    assert again == [], [(c.mutator, c.path) for c in again]
    for change in first:
        if change.op == "replace" and change.path[-1] in SECURE:
            assert change.old != SECURE[change.path[-1]], "a secure value was rewritten"
        if change.op in ("replace", "remove"):
            assert "enforce" in change.reason or change.mutator == "seccompProfile", change
