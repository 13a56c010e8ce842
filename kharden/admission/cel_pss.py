"""The Pod Security Standards checks (policy version "latest", as kharden.checks.pss) as CEL expressions, for a
ValidatingAdmissionPolicy: each is true when the pod passes, written to agree with kharden's own checker.

CEL available to admission policies (Kubernetes 1.30+; what is used here): the standard macros (`all`, `exists`),
`in`, string `startsWith`, and optional field selection `x.?f.orValue(d)` / `.hasValue()` (the CEL optional types
library, enabled for admission CEL since 1.29). No two-variable comprehensions, no regex. The expressions read
the pod spec through the policy's variables, so one policy covers Pods and every workload's template:

    variables.spec         the pod spec (Pod: object.spec; CronJob: spec.jobTemplate.spec.template.spec; other
                           workloads: spec.template.spec)
    variables.annotations  the pod's annotations (a workload's template annotations: they reach the pod)
    variables.containers   init containers, containers and ephemeral containers (the admission controller
                           visits all three)

Sources: the check definitions are kharden.checks.pss (the Pod Security Standards page, kubernetes.io/docs/
concepts/security/pod-security-standards, and k8s.io/pod-security-admission/policy); the CEL libraries are those
listed in k8s.io/apiserver/pkg/cel/environment/base.go.
"""

from __future__ import annotations

from typing import Iterable

from kharden.checks.pss.confinement import BASELINE_CAPABILITIES, SELINUX_TYPES_1_31
from kharden.checks.pss.host import SYSCTLS_1_37
from kharden.checks.pss.restricted import RESTRICTED_VOLUME_SOURCES

# Volume sources outside the restricted set (core/v1 VolumeSource): a volume fails when it has one of these and
# none of the allowed ones (kharden's rule; a volume with no source at all is an emptyDir).
OTHER_VOLUME_SOURCES = (
    "awsElasticBlockStore", "azureDisk", "azureFile", "cephfs", "cinder", "fc", "flexVolume", "flocker",
    "gcePersistentDisk", "gitRepo", "glusterfs", "hostPath", "iscsi", "nfs", "photonPersistentDisk",
    "portworxVolume", "quobyte", "rbd", "scaleIO", "storageos", "vsphereVolume",
)  # fmt: skip

SPEC = ("object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? "
        "object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)")
ANNOTATIONS = ("object.kind == 'Pod' ? object.metadata.?annotations.orValue({}) : (object.kind == 'CronJob' ? "
               "object.spec.jobTemplate.spec.template.?metadata.?annotations.orValue({}) : "
               "object.spec.template.?metadata.?annotations.orValue({}))")
CONTAINERS = ("variables.spec.containers + variables.spec.?initContainers.orValue([]) + "
              "variables.spec.?ephemeralContainers.orValue([])")
VARIABLES = (("spec", SPEC), ("annotations", ANNOTATIONS), ("containers", CONTAINERS))

POD_SC = "variables.spec.?securityContext"
WINDOWS = "variables.spec.?os.?name.orValue('') == 'windows'"
OWN_USERS = "variables.spec.?hostUsers.orValue(true) == false"


def _list(values: Iterable[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in sorted(values)) + "]"


def _pod_and_containers(test: str) -> str:
    """`test` (over `sc`, an optional securityContext) for the pod and every container."""
    return f"({test.replace('sc', POD_SC)}) && variables.containers.all(c, {test.replace('sc', 'c.?securityContext')})"


def _set_one_of(field: str, allowed: str) -> str:
    """If the optional `field` is set, its `type` is one of `allowed` (a set mapping without a type is not)."""
    return f"!sc.?{field}.hasValue() || sc.?{field}.?type.orValue('') in {allowed}"


def _no_host(c: str) -> str:
    handlers = [f"{c}.?{p}" for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [f"{c}.?lifecycle.?{h}" for h in ("postStart", "preStop")]
    return " && ".join(f"{h}.?{a}.?host.orValue('') == ''" for h in handlers for a in ("httpGet", "tcpSocket"))


def _proc_mount_default() -> str:
    return "variables.containers.all(c, c.?securityContext.?procMount.orValue('Default') == 'Default')"


SECCOMP_OK = _list(("RuntimeDefault", "Localhost"))
POD_SECCOMP_OK = f"{POD_SC}.?seccompProfile.?type.orValue('') in {SECCOMP_OK}"
_ALLOWED_VOLUMES = " || ".join(f"has(v.{s})" for s in sorted(RESTRICTED_VOLUME_SOURCES))
_OTHER_VOLUMES = " || ".join(f"has(v.{s})" for s in OTHER_VOLUME_SOURCES)

# check id (kharden.checks.pss.registry.ORDER) -> (CEL that is true when the pod passes, message)
CHECKS: dict[str, tuple[str, str]] = {
    "windowsHostProcess": (_pod_and_containers("!sc.?windowsOptions.?hostProcess.orValue(false)"),
                           "securityContext.windowsOptions.hostProcess must not be true"),
    "hostNamespaces": (" && ".join(f"!variables.spec.?{n}.orValue(false)" for n in ("hostNetwork", "hostPID", "hostIPC")),
                       "hostNetwork, hostPID and hostIPC must not be true"),
    "privileged": ("variables.containers.all(c, !c.?securityContext.?privileged.orValue(false))",
                   "containers must not set securityContext.privileged=true"),
    "capabilities_baseline": (
        f"variables.containers.all(c, c.?securityContext.?capabilities.?add.orValue([]).all(a, a in "
        f"{_list(BASELINE_CAPABILITIES)}))", "capabilities.add only from the baseline set"),
    "hostPathVolumes": ("variables.spec.?volumes.orValue([]).all(v, !has(v.hostPath))",
                        "hostPath volumes are forbidden"),
    "hostPorts": ("variables.containers.all(c, c.?ports.orValue([]).all(p, p.?hostPort.orValue(0) == 0))",
                  "hostPort must be unset or 0"),
    "hostProbesAndHostLifecycle": (f"variables.containers.all(c, {_no_host('c')})",
                                   "probes and lifecycle handlers must not set httpGet.host or tcpSocket.host"),
    "appArmorProfile": (
        _pod_and_containers(_set_one_of("appArmorProfile", _list(("RuntimeDefault", "Localhost"))))
        + " && variables.annotations.all(k, !k.startsWith('container.apparmor.security.beta.kubernetes.io/') || "
        "variables.annotations[k] in ['', 'runtime/default'] || variables.annotations[k].startsWith('localhost/'))",
        "AppArmor profile must be RuntimeDefault or Localhost"),
    "seLinuxOptions": (_pod_and_containers(
        f"!sc.?seLinuxOptions.hasValue() || (sc.?seLinuxOptions.?type.orValue('') in {_list(SELINUX_TYPES_1_31)} "
        "&& sc.?seLinuxOptions.?user.orValue('') == '' && sc.?seLinuxOptions.?role.orValue('') == '')"),
        "seLinuxOptions: type from the allowed set; user and role unset"),
    "procMount": (f"{OWN_USERS} || {_proc_mount_default()}", "procMount must be Default"),
    "seccompProfile_baseline": (_pod_and_containers(_set_one_of("seccompProfile", SECCOMP_OK)),
                                "seccompProfile must not be Unconfined"),
    "sysctls": (f"{POD_SC}.?sysctls.orValue([]).all(s, s.?name.orValue('') in {_list(SYSCTLS_1_37)})",
                "only safe sysctls"),
    "restrictedVolumes": (f"variables.spec.?volumes.orValue([]).all(v, {_ALLOWED_VOLUMES} || !({_OTHER_VOLUMES}))",
                          "volumes only of the restricted types"),
    "allowPrivilegeEscalation": (
        f"{WINDOWS} || variables.containers.all(c, c.?securityContext.?allowPrivilegeEscalation.orValue(true) "
        "== false)", "containers must set securityContext.allowPrivilegeEscalation=false"),
    "runAsNonRoot": (
        f"{OWN_USERS} || ({POD_SC}.?runAsNonRoot.orValue(true) != false && variables.containers.all(c, "
        "c.?securityContext.?runAsNonRoot.orValue(true) != false) && "
        f"({POD_SC}.?runAsNonRoot.orValue(false) == true || variables.containers.all(c, "
        "c.?securityContext.?runAsNonRoot.orValue(false) == true)))",
        "runAsNonRoot must be true on the pod or every container, and never false"),
    "runAsUser": (f"{OWN_USERS} || ({_pod_and_containers('sc.?runAsUser.orValue(1) != 0')})",
                  "runAsUser must not be 0"),
    "seccompProfile_restricted": (
        f"{WINDOWS} || ((!{POD_SC}.?seccompProfile.hasValue() || {POD_SECCOMP_OK}) && variables.containers.all(c, "
        f"c.?securityContext.?seccompProfile.hasValue() ? c.?securityContext.?seccompProfile.?type.orValue('') in "
        f"{SECCOMP_OK} : {POD_SECCOMP_OK}))",
        "seccompProfile must be RuntimeDefault or Localhost on the pod or every container"),
    "capabilities_restricted": (
        f"{WINDOWS} || variables.containers.all(c, 'ALL' in c.?securityContext.?capabilities.?drop.orValue([]) && "
        "c.?securityContext.?capabilities.?add.orValue([]).all(a, a == 'NET_BIND_SERVICE'))",
        "containers must drop ALL capabilities and add at most NET_BIND_SERVICE"),
    "procMount_restricted": (_proc_mount_default(), "procMount must be Default"),
}
