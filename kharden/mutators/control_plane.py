"""controlPlane: CIS Kubernetes Benchmark flags on kubeadm-style static pods that are safe without the cluster's
files. Recognised by the container's command (kube-apiserver, kube-controller-manager, kube-scheduler, etcd,
kubelet), whatever the file or pod is called.

    command:                          ->   command:
    - kube-apiserver                       - kube-apiserver
    - --authorization-mode=Node            - --authorization-mode=Node,RBAC
    - --client-ca-file=/etc/k/ca.crt       - --client-ca-file=/etc/k/ca.crt
                                           - --enable-admission-plugins=NodeRestriction
                                           - --profiling=false
                                           - --service-account-lookup=true

What it adds where absent: `--profiling=false`, `--authorization-mode=Node,RBAC` (or the missing modes appended),
`NodeRestriction`, `--service-account-lookup=true`, `--terminated-pod-gc-threshold=12500` (the default, made
explicit), `--bind-address=127.0.0.1` when every probe calls 127.0.0.1, `--anonymous-auth=false` when another
authenticator is set and no probe calls a health endpoint anonymously, etcd's client/peer certificate auth when
its CA is set, and the audit flags with their hostPath mounts once the profile names `auditPolicyFile` (where
`kharden generate audit-policy`'s output is installed). Written insecure values (`--profiling=true`,
`AlwaysAllow`, `AlwaysAdmit`) are rewritten only with `enforce: true`. Everything else is reported with its CIS
item number (kharden/cluster/cis.yaml says which and why).

Options:
  auditPolicyFile  path of the audit policy on the control-plane node ("" = do not add audit flags)
  auditLogPath     where the API server writes the audit log
  enforce          rewrite written insecure values
"""

from __future__ import annotations

from dataclasses import dataclass
import posixpath
from typing import Any

from kharden.cluster import cis
from kharden.cluster.flags import component_of, flag_list, flags_of
from kharden.cluster.plan import plan
from kharden.find.podspecs import PodTarget
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import containers, mapping
from kharden.options import ProfileOptions

ID = "controlPlane"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    audit_policy_file: str = ""
    audit_log_path: str = "/var/log/kubernetes/audit/audit.log"
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    for path, container in containers(target, edit):
        component = component_of(container)
        if component is None:
            continue
        # additions first, so that a list the rewrites shorten (AlwaysAllow out) already holds Node,RBAC
        ordered = sorted(cis.for_component(component, "flag"), key=lambda it: it.check == "excludes")
        added: set[str] = set()
        for item in ordered:
            flags = flags_of(container)
            written = flags.get(item.flag or "")
            if item.passes() if written is None else item.passes(written.value):
                continue
            p = plan(item, flags, container, opts)
            reason = f"CIS {item.cis}: {item.expectation()}"
            if p.op == "add":
                edit.append(path + (flag_list(container, component),), p.new, reason)
                added.add(item.flag or "")
            elif p.op == "replace" and written is not None:
                edit.replace(path + written.path, p.new, reason)
            elif p.op == "remove" and written is not None:
                edit.remove(path + written.path, reason)
        if "--audit-policy-file" in added or "--audit-log-path" in added:
            _mount_audit(target, path, container, opts, edit)


def _mount_audit(target: PodTarget, path: Path, container: dict[str, Any], opts: Options,
                 edit: Editor) -> None:
    """hostPath mounts for the policy file and the log directory, as the Kubernetes auditing docs show for a
    kubeadm static pod: without them the API server cannot read the policy or write the log."""
    mounts = [m for m in container.get("volumeMounts") or [] if isinstance(m, dict)]
    volumes = [v for v in mapping(edit.get(target.spec_path)).get("volumes") or [] if isinstance(v, dict)]
    names = {m.get("name") for m in mounts} | {v.get("name") for v in volumes}
    wanted = [("kharden-audit-policy", str(opts.audit_policy_file), "File", True),
              ("kharden-audit-log", posixpath.dirname(str(opts.audit_log_path)), "DirectoryOrCreate", False)]
    for name, where, kind, read_only in wanted:
        if not where or name in names or any(_covers(str(m.get("mountPath", "")), where) for m in mounts):
            continue
        mount: dict[str, Any] = {"name": name, "mountPath": where, **({"readOnly": True} if read_only else {})}
        edit.append(path + ("volumeMounts",), mount, "audit logging: the API server reads the policy from the node")
        edit.append(target.spec_path + ("volumes",), {"name": name, "hostPath": {"path": where, "type": kind}},
                    "audit logging: the node path the API server's audit mount refers to")


def _covers(mount_path: str, where: str) -> bool:
    return bool(mount_path) and (where == mount_path or where.startswith(mount_path.rstrip("/") + "/"))
