"""Which mutator fixes each Pod Security Standards control, which controls kharden does not fix, and the one line
that tells users why a violation was left.

A control in FIXED_BY is fixed by that mutator: the missing field is added, and an explicitly insecure value is
replaced where the profile enforces it. A violation of it left after `fix` is either the profile's choice (the
mutator is off, or does not enforce) or an opt-out; `left_because` says which.
"""

from __future__ import annotations

from typing import Collection

_NO_VOLUME_REMOVAL = "kharden does not remove volumes: the workload depends on them — replace the volume by hand"

NOT_FIXABLE: dict[str, str] = {
    "pss.hostNamespaces": "turning off hostNetwork/hostPID/hostIPC changes how the workload is reached and what it "
    "sees — fix by hand or enforce in the profile",
    "pss.hostPorts": "removing a hostPort changes how the workload is reached — fix by hand or enforce in the "
    "profile",
    "pss.hostPathVolumes": _NO_VOLUME_REMOVAL,
    "pss.restrictedVolumes": _NO_VOLUME_REMOVAL,
    "pss.hostProbesAndHostLifecycle": "a probe or hook that names a host checks another machine; kharden cannot "
    "tell which address the container answers on — remove the host by hand",
    "pss.sysctls": "an unsafe sysctl is tuning the workload asked for; kharden does not drop it — remove it or set "
    "it on the node",
    "pss.windowsHostProcess": "a HostProcess container exists to act on the Windows host; kharden does not turn it "
    "off — run it in a privileged namespace or redesign it",
    "pss.seLinuxOptions": "a custom SELinux type, user or role is a deliberate choice; kharden does not change it — "
    "fix by hand",
}

FIXED_BY: dict[str, str] = {
    "pss.privileged": "privileged",
    "pss.capabilities_baseline": "capabilities",
    "pss.capabilities_restricted": "capabilities",
    "pss.appArmorProfile": "seccompProfile",
    "pss.procMount": "procMount",
    "pss.procMount_restricted": "procMount",
    "pss.seccompProfile_baseline": "seccompProfile",
    "pss.seccompProfile_restricted": "seccompProfile",
    "pss.allowPrivilegeEscalation": "allowPrivilegeEscalation",
    "pss.runAsNonRoot": "runAsNonRoot",
    "pss.runAsUser": "runAsNonRoot",  # with enforce it removes runAsUser: 0; runAsUser then adds a non-root uid
}

_KEPT = "an explicit value kharden does not overwrite unless the profile enforces it (the strict profile does)"
KEPT: dict[str, str] = {
    "pss.runAsNonRoot": "a container set to run as root (runAsUser: 0) would not start with runAsNonRoot: true, "
    "and runAsNonRoot: false is explicit; kharden keeps both unless the profile enforces runAsNonRoot (the strict "
    "profile does)",
}


def left_because(rule: str, enabled: Collection[str]) -> str:
    """Why a violation of this control is still there after `fix` with a profile whose `enabled` mutators are on,
    when no opt-out explains it."""
    if rule in NOT_FIXABLE:
        return NOT_FIXABLE[rule]
    mutator = FIXED_BY.get(rule)
    if mutator is not None and mutator not in enabled:
        return f"the profile turns the {mutator} mutator off"
    return KEPT.get(rule, _KEPT)
