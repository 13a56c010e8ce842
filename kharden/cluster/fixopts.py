"""What the cluster layer reads of the profile's mutator options: what `fix` would do shapes each finding's reason.

The options themselves are the controlPlane, kubeletConfiguration and ingressTls mutators' `Options`
(kharden/mutators/); this layer sits below the mutators, so it names only the attributes it reads. `NO_PROFILE`
stands for "no profile given" (`kharden check` without `--profile`): nothing enforced, no files, no issuer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Enforcing(Protocol):
    """kubeletConfiguration's options: whether the profile rewrites written values."""

    @property
    def enforce(self) -> bool: ...


class ControlPlaneOptions(Enforcing, Protocol):
    """controlPlane's options: also where the audit policy and log live on the node."""

    @property
    def audit_policy_file(self) -> str: ...

    @property
    def audit_log_path(self) -> str: ...


class IssuerOptions(Protocol):
    """ingressTls's options: the cert-manager issuer that lets `fix` add TLS."""

    @property
    def cert_manager_issuer(self) -> str: ...


@dataclass(frozen=True)
class NoProfile:
    enforce: bool = False
    audit_policy_file: str = ""
    audit_log_path: str = ""
    cert_manager_issuer: str = ""


NO_PROFILE = NoProfile()
