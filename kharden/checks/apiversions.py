"""Deprecated and removed API versions at the target release: `api.removed` (error) and `api.deprecated` (warning).

`check` reports each object whose apiVersion is deprecated or removed at the target (`fixable` when the
`apiVersions` mutator would move it); `fix` reports what is left after the mutators ran, with the reason it was not
moved. A PodSecurityPolicy (removed in 1.25, no replacement) is reported with the Pod Security Admission labels that
replace it, the level read from what the policy allowed.
"""

from __future__ import annotations

from typing import Any, Iterable

from kharden.apiversions import migrate
from kharden.apiversions.table import Row, Version, lookup, show
from kharden.know import protected
from kharden.model import Finding, Status
from kharden.read import KObject


def check_api_versions(objects: Iterable[KObject], target: Version, *, fixing: bool = False,
                       migrating: bool = True, spared: Iterable[str] = ()) -> list[Finding]:
    """Findings for objects of a deprecated or removed version at `target`. `fixing`: after the mutators ran (what
    is left is `unfixed`); `migrating`: whether the apiVersions mutator is on; `spared`: protected namespaces,
    whose objects kharden reports and never moves."""
    spared = frozenset(spared)
    out = []
    for obj in objects:
        row = lookup(obj.data.get("apiVersion"), obj.data.get("kind"))
        status = row.status(target) if row is not None else None
        if row is None or status is None:
            continue
        when = row.removed if status == "removed" else row.deprecated
        assert when is not None
        message = f"{row.kind} {row.old} is {status} in Kubernetes {show(when)} (target {show(target)}); " + (
            f"use {row.to}" if row.to else "there is no replacement API")
        if row.kind == "PodSecurityPolicy":
            message += f"; {psa_labels(obj.data.get('spec'))}"
        blocker = protected.LEFT if protected.covers(obj.ref, spared) else _blocker(row, obj.data, target, migrating)
        state: Status = ("unfixed" if fixing else "open") if blocker else "fixable"
        out.append(Finding(obj.ref, f"api.{status}", "error" if status == "removed" else "warning", message,
                           ("apiVersion",), obj.line(("apiVersion",)), state,
                           blocker or "", {"source": row.source}))
    return out


def _blocker(row: Row, data: dict[str, Any], target: Version, migrating: bool) -> str | None:
    if not migrating:
        return "the apiVersions mutator is off in this profile"
    if row.migrate != "none" and not target >= row.available:
        return f"{row.to} is served from Kubernetes {show(row.available)} only"
    return migrate.blocker(row, data)


_PRIVILEGED = ("privileged", "hostNetwork", "hostPID", "hostIPC", "hostPorts", "allowedHostPaths")
_BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
                  "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
_RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected",
                       "secret"}


def psa_level(spec: Any) -> str:
    """The Pod Security Standards level a PodSecurityPolicy comes closest to: what it allows decides."""
    spec = spec if isinstance(spec, dict) else {}
    volumes = set(spec.get("volumes") or [])
    caps = set(spec.get("allowedCapabilities") or [])
    if any(spec.get(k) for k in _PRIVILEGED) or "*" in volumes or "hostPath" in volumes or caps - _BASELINE_CAPS:
        return "privileged"
    non_root = (spec.get("runAsUser") or {}).get("rule") == "MustRunAsNonRoot"
    drops_all = "ALL" in (spec.get("requiredDropCapabilities") or [])
    if non_root and drops_all and spec.get("allowPrivilegeEscalation") is False and volumes <= _RESTRICTED_VOLUMES:
        return "restricted"
    return "baseline"


def psa_labels(spec: Any) -> str:
    level = psa_level(spec)
    if level == "privileged":
        return ("it allows what only the privileged Pod Security Standard allows: label the namespaces it served "
                "pod-security.kubernetes.io/enforce: privileged (and audit/warn: baseline), or tighten the pods")
    return f"label the namespaces it served pod-security.kubernetes.io/enforce: {level} " \
           f"(pod-security.kubernetes.io/enforce-version: latest)"

