"""Is a pod spec a Windows pod? Every marker Kubernetes itself uses, not only `spec.os.name`.

The API server rejects Linux-only fields (seccompProfile, capabilities, readOnlyRootFilesystem, runAsUser, ...)
only on pods with `spec.os.name: windows`, but a pod is just as surely scheduled onto Windows nodes by
`nodeSelector` or required node affinity on `kubernetes.io/os: windows`, and `windowsOptions` / `hostProcess` only
mean something there. On such pods the Linux hardening either breaks the container runtime (a `/tmp` emptyDir
mount, a read-only root) or is ignored, so mutators skip them. The PSS checks do not use this: Pod Security
Admission exempts by `spec.os.name` alone (kharden.checks.pss.base.PodView.os_windows).

Sources: https://kubernetes.io/docs/concepts/windows/user-guide/ ("ensuring OS-specific workloads land on the
appropriate container host": nodeSelector and node affinity on kubernetes.io/os), the Pod API reference
(`spec.os`, `securityContext.windowsOptions`).
"""

from __future__ import annotations

from typing import Any

OS_LABELS = ("kubernetes.io/os", "beta.kubernetes.io/os")  # the beta label is still set by old kubelets


def os_name_windows(spec: dict[str, Any]) -> bool:
    """`spec.os.name: windows`: the one marker the API server and Pod Security Admission act on."""
    os_ = spec.get("os")
    return isinstance(os_, dict) and os_.get("name") == "windows"


def is_windows(spec: dict[str, Any], containers: list[dict[str, Any]]) -> bool:
    """True when any marker says the pod runs on Windows."""
    return (
        os_name_windows(spec)
        or _node_selector_windows(spec)
        or _required_affinity_windows(spec)
        or _windows_options(spec.get("securityContext"))
        or any(_windows_options(c.get("securityContext")) for c in containers)
    )


def _node_selector_windows(spec: dict[str, Any]) -> bool:
    selector = spec.get("nodeSelector")
    return isinstance(selector, dict) and any(selector.get(label) == "windows" for label in OS_LABELS)


def _required_affinity_windows(spec: dict[str, Any]) -> bool:
    """Required node affinity whose every term asks for Windows nodes (terms are ORed: one Linux term, no)."""
    affinity = _get(spec, ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"))
    terms = affinity.get("nodeSelectorTerms") if isinstance(affinity, dict) else None
    if not isinstance(terms, list) or not terms:
        return False
    return all(isinstance(t, dict) and _term_windows(t) for t in terms)


def _term_windows(term: dict[str, Any]) -> bool:
    exprs = term.get("matchExpressions")
    for e in exprs if isinstance(exprs, list) else []:
        if not isinstance(e, dict) or e.get("key") not in OS_LABELS:
            continue
        values = e.get("values")
        if e.get("operator") == "In" and isinstance(values, list) and values and set(values) == {"windows"}:
            return True
    return False


def _windows_options(sc: Any) -> bool:
    """Any `windowsOptions` (hostProcess, gmsaCredentialSpec, runAsUserName): set only for Windows containers."""
    return isinstance(sc, dict) and isinstance(sc.get("windowsOptions"), dict) and bool(sc["windowsOptions"])


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
