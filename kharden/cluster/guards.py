"""When a control-plane fix is safe without knowing the cluster's files: each guard answers (safe, why not).

  anonymous         kube-apiserver --anonymous-auth=false: another authenticator is configured (client
                    certificates, OIDC or a token webhook), no --authentication-config (which owns anonymous access
                    and may not be combined with the flag), and no probe of the pod calls /livez, /readyz or /healthz
                    (kubeadm's probes do, anonymously: turning anonymous off would fail them and restart the API
                    server forever; there the report gives the AuthenticationConfiguration that keeps anonymous
                    access to the health endpoints only)
  audit             the profile names where the audit policy is installed (mutators.controlPlane.auditPolicyFile):
                    the API server does not start when --audit-policy-file names a missing file
  audit-rotation    audit logging is (or is being) configured: rotation flags only make sense with a log path
  sa-credentials    --use-service-account-credentials needs the controller-manager to sign tokens
                    (--service-account-private-key-file)
  bind-local        every HTTP probe of the container names host 127.0.0.1/localhost (kubeadm's do); a probe
                    without a host calls the pod IP, which a 127.0.0.1 bind would no longer answer
  etcd-client-ca    --client-cert-auth=true needs --trusted-ca-file to verify clients against
  etcd-peer-ca      --peer-client-cert-auth=true needs --peer-trusted-ca-file
  kubelet-anonymous the kubelet has another authenticator (--client-ca-file or --authentication-token-webhook)
"""

from __future__ import annotations

from typing import Any, Callable

from kharden.cluster.fixopts import ControlPlaneOptions
from kharden.cluster.flags import Flag

HEALTH = ("/livez", "/readyz", "/healthz")
LOCAL = ("127.0.0.1", "localhost", "::1")
PROBES = ("livenessProbe", "readinessProbe", "startupProbe")

# One line (YAML flow style) so that it fits a report line; docs/cluster.md shows it in block style.
AUTHN_CONFIG = ("{apiVersion: apiserver.config.k8s.io/v1beta1, kind: AuthenticationConfiguration, anonymous: "
                "{enabled: true, conditions: [{path: /livez}, {path: /readyz}, {path: /healthz}]}}")

Guard = Callable[[dict[str, Flag], dict[str, Any], ControlPlaneOptions], tuple[bool, str]]


def _http_probes(container: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for p in PROBES:
        probe = container.get(p)
        get = probe.get("httpGet") if isinstance(probe, dict) else None
        if isinstance(get, dict):
            out.append(get)
    return out


def anonymous(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
    if "--authentication-config" in flags:
        return False, "--authentication-config is set: limit anonymous access in that file, not with the flag"
    others = ("--client-ca-file", "--oidc-issuer-url", "--authentication-token-webhook-config-file")
    if not any(f in flags for f in others):
        return False, "no other authenticator (client CA, OIDC, token webhook) is configured"
    health = sorted({str(g.get("path")) for g in _http_probes(container) if str(g.get("path", "")) in HEALTH})
    if health:
        return False, (f"the pod's probes call {', '.join(health)} anonymously (as kubeadm's do); instead of "
                       f"--anonymous-auth=false, pass --authentication-config=<file> holding "
                       f"{AUTHN_CONFIG} (Kubernetes 1.32+), which keeps anonymous access to the health endpoints only")
    return True, ""


def audit(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
    if opts.audit_policy_file:
        return True, ""
    return False, ("the audit policy must exist on the node: install `kharden generate audit-policy` there and "
                   "name its path in the profile (mutators.controlPlane.auditPolicyFile)")


def audit_rotation(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
    if "--audit-log-path" in flags or opts.audit_policy_file:
        return True, ""
    return False, "no --audit-log-path: rotation follows once audit logging is configured"


def _needs_flag(flag: str, why: str) -> Guard:
    def guard(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
        return (True, "") if flag in flags else (False, why)
    return guard


def bind_local(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
    for get in _http_probes(container):
        if str(get.get("host", "")) not in LOCAL:
            return False, "a probe calls the pod IP (no host: 127.0.0.1): binding to 127.0.0.1 would fail it"
    return True, ""


def kubelet_anonymous(flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> tuple[bool, str]:
    if "--client-ca-file" in flags or "--authentication-token-webhook" in flags:
        return True, ""
    return False, "no other authenticator (--client-ca-file, --authentication-token-webhook) is configured"


GUARDS: dict[str, Guard] = {
    "anonymous": anonymous,
    "audit": audit,
    "audit-rotation": audit_rotation,
    "sa-credentials": _needs_flag("--service-account-private-key-file",
                                  "no --service-account-private-key-file to sign the controllers' tokens with"),
    "bind-local": bind_local,
    "etcd-client-ca": _needs_flag("--trusted-ca-file", "no --trusted-ca-file to verify client certificates with"),
    "etcd-peer-ca": _needs_flag("--peer-trusted-ca-file", "no --peer-trusted-ca-file to verify peers with"),
    "kubelet-anonymous": kubelet_anonymous,
}
