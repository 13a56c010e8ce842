"""The cluster layer of the hardening guides: `check_cluster(objects) -> [Finding]`.

| rule id | what | module |
|---|---|---|
| `cis.<item>` | a CIS Kubernetes Benchmark item on a control-plane static pod or KubeletConfiguration | controlplane |
| `ingress.*`, `gateway.*` | TLS on Ingress and Gateway; NGINX annotations with known abuse | ingress |
| `audit.*` | holes in an audit.k8s.io Policy | auditpolicy |
| `encryption.*` | an EncryptionConfiguration that stores Secrets in plain text | encryption |

`status` is "open" for `kharden check`, "unfixed" for what `kharden fix` left (judged on the fixed objects).
"""

from __future__ import annotations

from typing import Any, Mapping

from kharden.cluster.fixopts import NO_PROFILE
from kharden.model import Finding
from kharden.read import KObject

# The rule id families of this layer: what `fix` leaves here needs the cluster's files, an issuer or a decision,
# never a profile setting kharden could have applied (reports and tests tell them from PSS findings by these).
FAMILIES = ("cis.", "controlplane.", "ingress.", "gateway.", "audit.", "encryption.")


def check_cluster(objects: list[KObject], opts: Mapping[str, Any] | None = None,
                  status: str = "open") -> list[Finding]:
    """`opts`: the profile's mutator options by id (what `fix` would do shapes each finding's reason)."""
    from kharden.checks.cluster import auditpolicy, controlplane, encryption, ingress

    opts = opts or {}
    return (controlplane.check_control_plane(objects, opts.get("controlPlane", NO_PROFILE), status,
                                             opts.get("kubeletConfiguration", NO_PROFILE))
            + ingress.check_ingress(objects, opts.get("ingressTls", NO_PROFILE), status)
            + auditpolicy.check_audit_policies(objects, status)
            + encryption.check_encryption(objects, status))
