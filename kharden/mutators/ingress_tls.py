"""ingressTls: Ingress hosts served over plain HTTP get TLS from cert-manager, once the profile names an issuer.

    kind: Ingress                     ->   kind: Ingress
    metadata:                              metadata:
      name: shop                             name: shop
                                             annotations:
                                               cert-manager.io/cluster-issuer: letsencrypt
    spec:                                  spec:
      rules:                                 rules:
      - host: shop.example.com               - host: shop.example.com
        http: ...                              http: ...
                                             tls:
                                             - hosts: [shop.example.com]
                                               secretName: shop-tls

cert-manager's ingress-shim sees the issuer annotation and issues the certificate into the named Secret
(https://cert-manager.io/docs/usage/ingress/). Without `certManagerIssuer` nothing is changed: the check reports
the uncovered hosts (`ingress.tls-missing`). Hosts already covered (exactly, or by a `*.` wildcard one level up)
and host-less rules (no certificate can name them) are left alone; an issuer annotation already there is kept. An
Ingress with tls entries but no issuer annotation is only reported: the annotation would hand the Secrets of its
existing entries (a certificate managed some other way) to cert-manager.

Options:
  certManagerIssuer  the cert-manager Issuer or ClusterIssuer name ("" = report only)
  issuerKind         ClusterIssuer (annotation cert-manager.io/cluster-issuer) or Issuer (cert-manager.io/issuer)
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.cluster.tls import ISSUER_ANNOTATIONS, tls_fix_blocked, uncovered_hosts
from kharden.errors import ProfileError
from kharden.mutators.base import Editor
from kharden.mutators.common import mapping
from kharden.options import ProfileOptions
from kharden.read import KObject

ID = "ingressTls"
SCOPE = "object"
ANNOTATIONS = {"ClusterIssuer": "cert-manager.io/cluster-issuer", "Issuer": "cert-manager.io/issuer"}


@dataclass(frozen=True)
class Options(ProfileOptions):
    cert_manager_issuer: str = ""
    issuer_kind: str = "ClusterIssuer"


def apply(target: KObject, opts: Options, edit: Editor) -> None:
    issuer = opts.cert_manager_issuer
    if not issuer or target.ref.kind != "Ingress" or target.ref.api_version != "networking.k8s.io/v1":
        return
    if opts.issuer_kind not in ANNOTATIONS:
        raise ProfileError(f"mutators.ingressTls.issuerKind: one of {', '.join(ANNOTATIONS)}")
    missing, _ = uncovered_hosts(target)
    if not missing or tls_fix_blocked(target, opts):
        return
    hosts = list(dict.fromkeys(h for _, h in missing))
    edit.append(("spec", "tls"), {"hosts": hosts, "secretName": _secret_name(target)},
                f"TLS for {', '.join(hosts)}: cert-manager issues the certificate into this Secret")
    annotations = mapping(edit.get(("metadata", "annotations")))
    if not any(a in annotations for a in ISSUER_ANNOTATIONS):
        key = ANNOTATIONS[opts.issuer_kind]
        edit.ensure(("metadata", "annotations", key), str(issuer), f"cert-manager issues the certificate with {issuer}")


def _secret_name(target: KObject) -> str:
    spec = mapping(target.data.get("spec"))
    taken = {str(t.get("secretName")) for t in spec.get("tls") or [] if isinstance(t, dict)}
    base = f"{target.ref.name}-tls"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name
