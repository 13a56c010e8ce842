"""Explicit values a profile leaves in place, each reported with its reason: `check_explicit(objects, profile,
notes) -> [Finding]`, run after the mutators.

kharden never overwrites an explicit value unless the profile enforces it (`enforce: true`, the strict profile).
The Pod Security Standards do not cover these three, so without this check they passed `check --profile` with
exit 0 and `fix` said nothing, while Polaris, kubescape and checkov fail them:

| rule id | severity | what is left |
|---|---|---|
| `kharden.readOnlyRootFilesystem` | error | `readOnlyRootFilesystem: false` on a container |
| `kharden.runAsUser` | error | an explicit `runAsUser` from 1 to the profile's `minimum - 1` (default 10000; checkov CKV_K8S_40) |
| `kharden.automountServiceAccountToken` | error | `automountServiceAccountToken: true` on the pod; a note instead when kharden knows the workload uses the API (kharden.know.api_use) |

A container or pod opted out of the mutator is reported as opted out instead (kharden.mutators.optouts).
"""

from __future__ import annotations

from typing import Any

from kharden.find import find_pod_targets
from kharden.know.images import facts_for
from kharden.model import Finding, Path
from kharden.read import KObject

KEPT = "an explicit value, kept: only a profile with enforce: true (the strict profile) overwrites it"


def low_uid(value: Any, minimum: Any) -> bool:
    """An explicit non-root UID below the profile's minimum (0 is runAsNonRoot's business). As the runAsUser
    mutator raises it under `enforce: true` (kharden.mutators.run_as_user)."""
    return isinstance(minimum, int) and type(value) is int and 0 < value < minimum


def check_explicit(objects: list[KObject], *, enabled: set[str], minimum: Any,
                   pod_templates: dict[tuple[str, str], Path] | None, notes: list[Finding]) -> list[Finding]:
    """`enabled`: the profile's enabled mutators; `minimum`: its runAsUser minimum; `notes`: the mutators' notes
    (opted-out containers are not reported again)."""
    opted = {(f.obj, f.extra.get("mutator"), f.extra.get("container")) for f in notes
             if f.status == "opted-out" or f.rule == "kharden.unneeded-opt-out"}
    out: list[Finding] = []
    for obj in objects:
        for target in find_pod_targets(obj, pod_templates):
            if target.windows:
                continue
            def skip(mid: str, container: str | None) -> bool:
                return mid not in enabled or (obj.ref, mid, None) in opted or (obj.ref, mid, container) in opted
            out += _pod(obj, target, minimum, skip)
    return out


def _pod(obj: KObject, target: Any, minimum: Any, skip: Any) -> list[Finding]:
    found: list[Finding] = []
    spec_sc = target.spec.get("securityContext")
    spots: list[tuple[Path, Any, str | None]] = [(target.spec_path + ("securityContext",), spec_sc, None)]
    spots += [(path + ("securityContext",), c.get("securityContext"), c.get("name")) for path, c in target.containers()]
    own = {facts_for(c.get("image"), None).user for _, c in target.containers()}  # their files' owner
    for path, sc, name in spots:
        if not isinstance(sc, dict):
            continue
        who = "the pod" if name is None else f'container "{name}"'
        if low_uid(sc.get("runAsUser"), minimum) and sc.get("runAsUser") not in own and not skip("runAsUser", name):
            found.append(_finding(obj, "runAsUser", "error", path + ("runAsUser",), name,
                                  f"{who} runs as UID {sc['runAsUser']}, below {minimum}: it may be a user of the "
                                  "node"))
        if name is not None and sc.get("readOnlyRootFilesystem") is False and not skip("readOnlyRootFilesystem", name):
            found.append(_finding(obj, "readOnlyRootFilesystem", "error", path + ("readOnlyRootFilesystem",), name,
                                  f"{who} sets readOnlyRootFilesystem: false: it can write to its image"))
    if target.spec.get("automountServiceAccountToken") is True and not skip("automountServiceAccountToken", None):
        found.append(_finding(obj, "automountServiceAccountToken", "error",
                              target.spec_path + ("automountServiceAccountToken",), None,
                              "the pod sets automountServiceAccountToken: true: its token is mounted",
                              KEPT + "; keep it only if the workload uses the Kubernetes API"))
    return found


def _finding(obj: KObject, mid: str, severity: str, path: Path, container: str | None, message: str,
             reason: str = KEPT) -> Finding:
    return Finding(obj.ref, f"kharden.{mid}", severity, message, path, obj.line(path),  # type: ignore[arg-type]
                   "unfixed", reason, {"container": container} if container else {})


def escalation_blocked(obj: KObject, container: str | None, pod_templates: dict[tuple[str, str], Path] | None) -> str:
    """Why `allowPrivilegeEscalation: false` was not added to this container, when the reason is the container's
    own `privileged: true` or added CAP_SYS_ADMIN: the API server rejects false beside either. "" otherwise."""
    for target in find_pod_targets(obj, pod_templates):
        for _, c in target.containers():
            sc = c.get("securityContext")
            if c.get("name") != container or not isinstance(sc, dict):
                continue
            caps = sc.get("capabilities")
            added = caps.get("add") if isinstance(caps, dict) else None
            sys_admin = isinstance(added, list) and any(str(a).upper().removeprefix("CAP_") == "SYS_ADMIN"
                                                        for a in added)
            if sc.get("privileged") is True or sys_admin:
                what = "privileged: true" if sc.get("privileged") is True else "the added capability SYS_ADMIN"
                return (f"{what} makes allowPrivilegeEscalation: false invalid (the API server rejects the pair): "
                        "remove it first (the strict profile does)")
    return ""
