"""allowPrivilegeEscalation: every container says `allowPrivilegeEscalation: false`.

    securityContext:             ->   securityContext:
      runAsNonRoot: true                runAsNonRoot: true
                                        allowPrivilegeEscalation: false

Required by Pod Security Standards (restricted). An explicit `true` is rewritten only with `enforce: true`.
The API server rejects `false` together with `privileged: true` or an added `SYS_ADMIN` capability, so such a
container is left alone (it runs after `privileged` and `capabilities`, which may already have fixed that).
Windows pods are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, container_sc, containers, mapping
from kharden.options import ProfileOptions

ID = "allowPrivilegeEscalation"
SCOPE = "pod"

_ESCALATES = {"SYS_ADMIN", "CAP_SYS_ADMIN"}


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    for path, container in containers(target, edit):
        sc = container_sc(container)
        if sc.get("privileged") is True or _adds_sys_admin(sc):
            continue  # the API server would reject allowPrivilegeEscalation: false here
        field = path + (SC, "allowPrivilegeEscalation")
        if sc.get("allowPrivilegeEscalation") is True:
            if opts.enforce:
                edit.replace(field, False, f"privilege escalation forbidden: {ENFORCED}")
        else:
            edit.ensure(field, False, "containers must not allow privilege escalation (PSS restricted)")


def _adds_sys_admin(sc: dict[str, Any]) -> bool:
    added = mapping(sc.get("capabilities")).get("add")
    return isinstance(added, list) and any(str(c).upper() in _ESCALATES for c in added)
