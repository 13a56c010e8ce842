"""Mutators, in pipeline order. Registration is this explicit list: no scanning, no import-time magic.

Order matters where one mutator reads what another decided:
  privileged, capabilities  before allowPrivilegeEscalation (the API server rejects `allowPrivilegeEscalation: false`
                            beside `privileged: true` or an added SYS_ADMIN, which those two may have removed);
  apiVersions               first: a manifest moved to its current API version is then hardened like any other;
  runAsNonRoot              before runAsUser (it must see an explicit `runAsUser: 0`, and with `enforce` removes it
                            so that runAsUser can supply a non-root user).
"""

from __future__ import annotations

from types import ModuleType

from kharden.mutators import (
    allow_privilege_escalation,
    api_versions,
    automount_service_account_token,
    capabilities,
    control_plane,
    host_namespaces,
    host_ports,
    ingress_tls,
    kubelet_configuration,
    namespace_labels,
    privileged,
    proc_mount,
    read_only_root_filesystem,
    resources,
    run_as_non_root,
    run_as_user,
    seccomp_profile,
)
from kharden.options import ProfileOptions

REGISTRY: list[ModuleType] = [
    api_versions,
    host_namespaces,
    host_ports,
    privileged,
    capabilities,
    allow_privilege_escalation,
    proc_mount,
    seccomp_profile,
    run_as_non_root,
    run_as_user,
    read_only_root_filesystem,
    resources,
    automount_service_account_token,
    namespace_labels,
    control_plane,
    kubelet_configuration,
    ingress_tls,
]

MUTATORS: dict[str, ModuleType] = {m.ID: m for m in REGISTRY}
MUTATOR_OPTIONS: dict[str, type[ProfileOptions]] = {m.ID: m.Options for m in REGISTRY}
