"""Mechanical migrations of deprecated API versions, as edits through an `Editor` (so they are Changes: the YAML
splice, the diff and the JSON patch all show them), and the reasons a manifest cannot be moved mechanically.

    apiVersion: extensions/v1beta1       apiVersion: apps/v1
    kind: Deployment                     kind: Deployment
    spec:                          ->    spec:
      template:                            template:
        metadata:                            metadata:
          labels: {app: web}                   labels: {app: web}
                                           selector:
                                             matchLabels: {app: web}

`blocker(row, data)` says why an object cannot be moved (None: it can); `apply(row, data, edit, why)` moves it.
"""

from __future__ import annotations

import copy
from typing import Any, Protocol

from kharden.apiversions.table import Row
from kharden.find.podspecs import get
from kharden.model import Path

# What apps/v1 defaults differently from the old group, for fields the manifest leaves unset: said in the reason.
DEFAULTS_CHANGED: dict[tuple[str, str], dict[str, str]] = {
    ("extensions/v1beta1", "Deployment"): {
        "progressDeadlineSeconds": "600 (was no deadline)", "revisionHistoryLimit": "10 (was every revision)",
        "strategy": "rolling update with maxSurge/maxUnavailable 25% (was 1)"},
    ("apps/v1beta1", "Deployment"): {"revisionHistoryLimit": "10 (was 2)"},
    ("extensions/v1beta1", "DaemonSet"): {"updateStrategy": "RollingUpdate (was OnDelete)"},
    ("apps/v1beta1", "StatefulSet"): {"updateStrategy": "RollingUpdate (was OnDelete)"},
}
REMOVED_FIELDS = {"Deployment": ("rollbackTo",), "DaemonSet": ("templateGeneration",)}
HPA_TYPES = ("Resource", "ContainerResource", "Pods", "Object", "External")


class Editor(Protocol):
    """The verbs of `kharden.mutators.base.Editor` a migration uses (each edit recorded as a Change)."""

    def ensure(self, path: Path, value: Any, reason: str) -> bool: ...
    def replace(self, path: Path, value: Any, reason: str) -> None: ...
    def remove(self, path: Path, reason: str) -> None: ...


def blocker(row: Row, data: dict[str, Any]) -> str | None:
    """Why this object cannot be moved mechanically to `row.to`; None when it can."""
    if row.migrate == "none":
        return f"not mechanical: {row.note}" if row.note else "no mechanical migration"
    if row.migrate == "workload" and not isinstance(get(data, ("spec", "selector")), dict):
        labels = get(data, ("spec", "template", "metadata", "labels"))
        if not (isinstance(labels, dict) and labels):
            return "apps/v1 requires spec.selector, and the pod template has no labels to take it from"
    if row.migrate == "pdb" and get(data, ("spec", "selector")) == {}:
        return "an empty spec.selector selects no pod in policy/v1beta1 but every pod of the namespace in policy/v1"
    if row.migrate == "ingress":
        for path, backend in _ingress_backends(data):
            if isinstance(backend, dict) and "serviceName" in backend and "servicePort" not in backend:
                return f"{'.'.join(map(str, path))} names a service without servicePort, which v1 requires"
    if row.migrate == "hpa":
        for m in _list(get(data, ("spec", "metrics"))):
            if not isinstance(m, dict) or m.get("type") not in HPA_TYPES or not isinstance(m.get(_key(m)), dict):
                return "a metric kharden cannot read (type must be one of " + ", ".join(HPA_TYPES) + ")"
    return None


def apply(row: Row, data: dict[str, Any], edit: Editor, why: str) -> None:
    """Move the object to `row.to` (the caller checked `blocker`)."""
    assert row.to is not None
    unset = [f"{k} {v}" for k, v in DEFAULTS_CHANGED.get((row.old, row.kind), {}).items()
             if get(data, ("spec", k)) is None]
    edit.replace(("apiVersion",), row.to, why + (f"; {row.to} defaults unset fields differently: " +
                                                 ", ".join(unset) if unset else ""))
    if row.migrate == "workload":
        _workload(row, data, edit)
    elif row.migrate == "ingress":
        _ingress(data, edit)
    elif row.migrate == "hpa":
        for i, m in enumerate(_list(get(data, ("spec", "metrics")))):
            morph(edit, ("spec", "metrics", i), m, hpa_metric(m), "autoscaling/v2 metric: the target restructured")


def _workload(row: Row, data: dict[str, Any], edit: Editor) -> None:
    if get(data, ("spec", "selector")) is None:
        labels = dict(get(data, ("spec", "template", "metadata", "labels")))
        edit.ensure(("spec", "selector"), {"matchLabels": labels},
                    "apps/v1 requires spec.selector: the pod template's labels, as the old API defaulted it")
    for name in REMOVED_FIELDS.get(row.kind, ()):
        if name in (get(data, ("spec",)) or {}):
            edit.remove(("spec", name), f"spec.{name} does not exist in apps/v1")


def morph(edit: Editor, path: Path, old: Any, new: Any, why: str) -> None:
    """Edit the value at `path` from `old` into `new` key by key: keys removed, changed values replaced (mappings
    followed down), keys added. Each edit names its own key, so the YAML splice keeps every untouched byte."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        if old != new:
            edit.replace(path, new, why)
        return
    for k in [k for k in old if k not in new]:
        edit.remove(path + (k,), why)
    for k, v in new.items():
        if k in old:
            morph(edit, path + (k,), old[k], v, why)
        else:
            edit.ensure(path + (k,), v, why)


def _ingress_backends(data: dict[str, Any]) -> list[tuple[Path, Any]]:
    out: list[tuple[Path, Any]] = [(("spec", "backend"), get(data, ("spec", "backend")))]
    for i, rule in enumerate(_list(get(data, ("spec", "rules")))):
        for j, p in enumerate(_list(get(rule, ("http", "paths")))):
            out.append((("spec", "rules", i, "http", "paths", j, "backend"), get(p, ("backend",))))
    return [(path, b) for path, b in out if b is not None]


def _ingress(data: dict[str, Any], edit: Editor) -> None:
    spec = get(data, ("spec",)) or {}
    if "backend" in spec:
        backend = ingress_backend(spec["backend"])
        edit.remove(("spec", "backend"), "networking.k8s.io/v1 calls it spec.defaultBackend")
        edit.ensure(("spec", "defaultBackend"), backend, "networking.k8s.io/v1: spec.backend, restructured")
    for i, rule in enumerate(_list(spec.get("rules"))):
        for j, p in enumerate(_list(get(rule, ("http", "paths")))):
            path: Path = ("spec", "rules", i, "http", "paths", j)
            if isinstance(p, dict) and isinstance(p.get("backend"), dict) and "serviceName" in p["backend"]:
                morph(edit, path + ("backend",), p["backend"], ingress_backend(p["backend"]),
                      "networking.k8s.io/v1 backend: service.name and service.port")
            if isinstance(p, dict) and p.get("pathType") is None:
                edit.ensure(path + ("pathType",), "ImplementationSpecific",
                            "networking.k8s.io/v1 requires pathType: ImplementationSpecific, the v1beta1 default")


def ingress_backend(old: Any) -> Any:
    """`{serviceName: web, servicePort: 80}` -> `{service: {name: web, port: {number: 80}}}`; others as they are."""
    if not isinstance(old, dict) or "serviceName" not in old:
        return old
    old = copy.deepcopy(old)
    port = old.get("servicePort")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    new = {k: v for k, v in old.items() if k not in ("serviceName", "servicePort")}
    new["service"] = {"name": old["serviceName"], "port": {"number" if isinstance(port, int) else "name": port}}
    return new


def _key(m: dict[str, Any]) -> str:
    """The member holding a metric's source: `resource` for Resource, `containerResource`, `pods`, ..."""
    t = str(m.get("type"))
    return t[0].lower() + t[1:]


def hpa_metric(m: dict[str, Any]) -> dict[str, Any]:
    """One autoscaling/v2beta1 metric in autoscaling/v2's shape (`metric`, `target`, `describedObject`)."""
    key = _key(m)
    src = copy.deepcopy(m[key])  # the new shape must share nothing with the live object the edits change
    new: dict[str, Any] = {}
    if key in ("resource", "containerResource"):
        new = {k: src[k] for k in ("name", "container") if k in src}
    else:
        metric = {"name": src.get("metricName")}
        selector = src.get("metricSelector" if key == "external" else "selector")
        if selector is not None:
            metric["selector"] = selector
        if key == "object":
            new["describedObject"] = src.get("target")
        new["metric"] = metric
    new["target"] = _hpa_target(src, key)
    return {**{k: v for k, v in m.items() if k != key}, key: new}


def _hpa_target(src: dict[str, Any], key: str) -> dict[str, Any]:
    if "targetAverageUtilization" in src:
        return {"type": "Utilization", "averageUtilization": src["targetAverageUtilization"]}
    if key == "object" and "averageValue" in src:
        return {"type": "AverageValue", "averageValue": src["averageValue"]}
    if "targetAverageValue" in src:
        return {"type": "AverageValue", "averageValue": src["targetAverageValue"]}
    return {"type": "Value", "value": src.get("targetValue")}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
