"""Which Ingress hosts lack TLS, and whether `fix` may add it (shared by the check and the ingressTls mutator)."""

from __future__ import annotations

from typing import Any

from kharden.cluster.fixopts import IssuerOptions
from kharden.read import KObject


def mapping(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def listing(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def covered(host: str, tls_hosts: list[str]) -> bool:
    """A TLS host covers itself; `*.example.com` covers exactly one more label (as certificates do)."""
    for t in tls_hosts:
        if t == host or (t.startswith("*.") and host.count(".") == t.count(".") and host.endswith(t[1:])):
            return True
    return False


def uncovered_hosts(obj: KObject) -> tuple[list[tuple[int, str]], bool]:
    """(rule index, host) of every rule host without TLS; and whether a host-less rule (or backend) serves HTTP."""
    spec = mapping(obj.data.get("spec"))
    tls = listing(spec.get("tls"))
    tls_hosts = [str(h) for t in tls if isinstance(t, dict) for h in t.get("hosts") or []]
    rules = listing(spec.get("rules"))
    out = [(i, str(r["host"])) for i, r in enumerate(rules)
           if isinstance(r, dict) and r.get("host") and not covered(str(r["host"]), tls_hosts)]
    hostless = any(isinstance(r, dict) and not r.get("host") for r in rules) or (
        "defaultBackend" in spec or "backend" in spec)
    return out, hostless and not tls


ISSUER_ANNOTATIONS = ("cert-manager.io/cluster-issuer", "cert-manager.io/issuer")


def tls_fix_blocked(obj: KObject, opts: IssuerOptions) -> str:
    """Why `fix` will not add TLS to this Ingress ("" when it will)."""
    if not opts.cert_manager_issuer:
        return ("name a cert-manager issuer in the profile (mutators.ingressTls.certManagerIssuer) for kharden fix "
                "to add TLS, or add a tls entry with a certificate Secret")
    if obj.ref.api_version != "networking.k8s.io/v1":
        return "only networking.k8s.io/v1 Ingresses are fixed"
    spec = mapping(obj.data.get("spec"))
    if spec.get("tls") and not any(obj.annotation(a) for a in ISSUER_ANNOTATIONS):
        return ("its tls entries are managed without cert-manager: an issuer annotation would hand their Secrets to "
                "cert-manager; add the missing hosts by hand")
    return ""
