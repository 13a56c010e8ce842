"""Which Pod Security Standards controls kharden does not fix, and the one line that tells users why.

Every other control is fixed by a mutator: the missing field is added, and an explicitly insecure value is
replaced where the profile enforces it.
"""

from __future__ import annotations

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
