"""What each rule id means, for reports that explain themselves (SARIF rule help, markdown reports).

Rule ids are stable (`pss.<control>`, `kharden.<mutatorID>`, `netpol.<what>`, `rbac.<what>`, `image.<what>`,
`secret.<what>`); these tables give each a title, a help text and a security severity (0-10, as GitHub code scanning
reads `security-severity`). An id not listed here still gets a help text: a mutator's module docstring, or a
generic line for its family.
"""

from __future__ import annotations

from dataclasses import dataclass

PSS_DOC = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    help: str
    severity: float  # 0-10

    @property
    def level(self) -> str:
        return "error" if self.severity >= 7 else "warning" if self.severity >= 4 else "note"


_PSS: dict[str, tuple[str, str, float]] = {
    "windowsHostProcess": ("Windows HostProcess containers", "HostProcess containers have full access to the Windows "
                           "host. Remove `hostProcess: true`.", 9.0),
    "hostNamespaces": ("Host namespaces", "Sharing the host network, PID or IPC namespace lets a container see and "
                       "reach host processes and traffic. Set hostNetwork, hostPID and hostIPC to false.", 8.5),
    "privileged": ("Privileged containers", "A privileged container has every capability and all host devices: it is "
                   "root on the node. Set `securityContext.privileged: false`.", 9.0),
    "capabilities_baseline": ("Added capabilities", "Only the default capability set may be added (baseline). Remove "
                              "the extra entries from `capabilities.add`.", 7.5),
    "hostPathVolumes": ("hostPath volumes", "A hostPath volume mounts the node's file system into the pod. Use an "
                        "emptyDir, a ConfigMap or a PersistentVolumeClaim instead.", 8.0),
    "hostPorts": ("Host ports", "A hostPort binds the node's network interface and bypasses network policy. Use a "
                  "Service instead.", 6.0),
    "hostProbesAndHostLifecycle": ("Probe and lifecycle hosts", "A probe or lifecycle handler with `host` set makes "
                                   "the kubelet contact another machine. Remove the `host` field.", 5.0),
    "appArmorProfile": ("AppArmor profile", "Overriding or disabling the default AppArmor profile weakens "
                        "confinement. Use RuntimeDefault or a Localhost profile.", 6.5),
    "seLinuxOptions": ("SELinux options", "Custom SELinux types, users or roles can escape confinement. Only the "
                       "container_t family of types is allowed.", 6.5),
    "procMount": ("/proc mount", "An Unmasked /proc exposes host kernel information. Use the Default procMount.", 6.0),
    "seccompProfile_baseline": ("Seccomp profile (baseline)", "An Unconfined seccomp profile allows every system call. "
                                "Use RuntimeDefault or a Localhost profile.", 6.5),
    "sysctls": ("Unsafe sysctls", "Only the safe, namespaced sysctls may be set by a pod; others affect the whole "
                "node.", 6.0),
    "restrictedVolumes": ("Volume types", "Restricted pods may only use configMap, csi, downwardAPI, emptyDir, "
                          "ephemeral, persistentVolumeClaim, projected and secret volumes.", 5.5),
    "allowPrivilegeEscalation": ("Privilege escalation", "Without `allowPrivilegeEscalation: false` a process can gain "
                                 "more privileges than its parent (setuid binaries).", 6.0),
    "runAsNonRoot": ("Running as root", "Containers must run as a non-root user: set `runAsNonRoot: true` (and a "
                     "non-zero runAsUser).", 6.0),
    "runAsUser": ("runAsUser 0", "`runAsUser: 0` runs the container as root. Use a non-zero user id.", 6.0),
    "seccompProfile_restricted": ("Seccomp profile", "Restricted pods must set a seccomp profile: "
                                  "`seccompProfile.type: RuntimeDefault` (or Localhost).", 5.5),
    "capabilities_restricted": ("Capabilities", "Restricted containers must drop ALL capabilities and may add back "
                                "only NET_BIND_SERVICE.", 5.5),
    "procMount_restricted": ("/proc mount (restricted)", "Restricted pods must use the Default procMount.", 5.0),
}

IMAGES_DOC = "docs/images-and-secrets.md"
# Image and secret rules (kharden.checks.images, kharden.checks.secrets, and the fixes behind them).
_CHECKS: dict[str, tuple[str, str, float]] = {
    "image.latest-tag": ("Image uses :latest", "A `:latest` image changes with every push: nodes run different "
                         "code. Pin a tag and a digest: `kharden images lock`, then `kharden fix --pin-images`.", 6.0),
    "image.untagged": ("Image without a tag", "An image without tag or digest runs whatever `:latest` is. Pin a tag "
                       "and a digest: `kharden images lock`, then `kharden fix --pin-images`.", 6.0),
    "image.tag-only": ("Image not pinned by digest", "The profile asks for digests (`requireDigest`): a tag can be "
                       "moved to other content. `kharden fix --pin-images LOCK` pins it.", 5.0),
    "image.registry": ("Image from a registry not allowed", "The image comes from a registry outside the profile's "
                       "`allowedRegistries`.", 7.0),
    "image.pull-policy": ("Pull policy does not fit the reference", "A mutable tag pulled `IfNotPresent` (the "
                          "default for tags other than latest) or `Never`: nodes may keep different images under one "
                          "tag. Pin a digest, or set `imagePullPolicy: Always`.", 4.0),
    "image.invalid": ("Not an image reference", "The `image` is not a reference the runtime can pull (an "
                      "unrendered template, upper case, ...).", 3.0),
    "image.not-in-lock": ("Image missing from the lock", "`fix --pin-images` found no digest for this reference in "
                          "the lock: it is not guessed. Add it with `kharden images lock`.", 4.0),
    "image.lock-elsewhere": ("Lock names another repository", "The lock maps this reference to another repository "
                             "(a kbld override to a mirror): pinning does not move images between registries.", 4.0),
    "secret.plaintext": ("Credential in plain text", "A credential is written as a literal (env value, args, "
                         "ConfigMap data or an annotation): anyone who reads the manifests or the object has it. "
                         "`kharden fix --move-secrets` moves env literals and ConfigMap keys into a Secret; the "
                         "report shows the kind and place, never the value.", 8.0),
    "secret.env-var": ("Secret as an environment variable", "A Secret consumed as an environment variable leaks "
                       "into crash dumps, `env` output and child processes (checkov CKV_K8S_35). `kharden fix "
                       "--secrets-as-files` mounts it as a file where the image reads `<VAR>_FILE`.", 4.0),
    "secret.not-moved": ("Credential not moved", "`--move-secrets` left this literal where it is: moving it would "
                         "break a consumer (a volume mount) or one outside the input.", 6.0),
    "secret.supply-out-of-band": ("Secret values to supply", "kharden wrote a Secret with key names and no values: "
                                  "create it out of band before the workload starts.", 5.0),
}

_FAMILY: dict[str, tuple[str, float]] = {
    "pss": ("A Pod Security Standards control.", 6.0),
    "kharden": ("A hardening setting the kharden profile asks for beyond the Pod Security Standards.", 3.5),
    "netpol": ("A NetworkPolicy finding: traffic that is allowed but should not be, or a policy kharden could not "
               "derive.", 4.0),
    "rbac": ("An RBAC finding: permissions broader than the workload needs.", 7.0),
    "api": ("An API version deprecated or removed at the target Kubernetes release (--kube-version); see "
            "https://kubernetes.io/docs/reference/using-api/deprecation-guide/", 5.0),
    "cis": ("A CIS Kubernetes Benchmark item on a control-plane static pod or KubeletConfiguration (the id is the "
            "item number). See docs/cluster.md.", 7.0),
    "controlplane": ("A control-plane flag checkov checks that current Kubernetes no longer has. See "
                     "docs/cluster.md.", 2.0),
    "ingress": ("Ingress TLS, or an ingress-nginx annotation with known abuse. See docs/cluster.md.", 7.0),
    "gateway": ("A Gateway listener serving plain HTTP. See docs/cluster.md.", 5.0),
    "audit": ("A hole in an audit.k8s.io Policy. See docs/cluster.md.", 5.0),
    "encryption": ("Secrets not encrypted at rest by an EncryptionConfiguration. See docs/cluster.md.", 7.5),
}


def rule(rule_id: str, example_message: str = "") -> Rule:
    """The rule for an id: the table above, a mutator's docstring, or its family's generic text."""
    family, _, name = rule_id.partition(".")
    if family == "pss" and name in _PSS:
        title, text, severity = _PSS[name]
        return Rule(rule_id, title, f"{text}\n\nPod Security Standards: {PSS_DOC}", severity)
    if rule_id in _CHECKS:
        title, text, severity = _CHECKS[rule_id]
        return Rule(rule_id, title, f"{text}\n\nSee {IMAGES_DOC}.", severity)
    generic, severity = _FAMILY.get(family, ("A kharden finding.", 3.0))
    text = _mutator_doc(name) if family == "kharden" else ""
    if example_message:
        generic += f" For example: {example_message}"
    return Rule(rule_id, name or rule_id, text or generic, severity)


def _mutator_doc(mutator_id: str) -> str:
    try:
        from kharden.mutators import MUTATORS
    except ImportError:  # pragma: no cover
        return ""
    module = MUTATORS.get(mutator_id)
    doc = (module.__doc__ or "").strip() if module is not None else ""
    return doc.split("\n\n")[0].replace("\n", " ") if doc else ""
