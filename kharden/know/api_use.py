"""Which workloads use the Kubernetes API, and why: the one answer to "may this pod lose its token?".

A workload keeps its ServiceAccount token when any of these holds (each is a reason the report names):

  * its ServiceAccount (explicit, or the namespace's `default`) is a subject of a RoleBinding or
    ClusterRoleBinding of the input: by `kind: ServiceAccount`, as the user `system:serviceaccount:NS:NAME`, or
    through the groups `system:serviceaccounts` and `system:serviceaccounts:NS`;
  * it declares the access it needs (`kharden.dev/access`, `kharden/generators/rbac/access.py`);
  * the audit log (`--audit-log`) shows its ServiceAccount calling the API (for the shared `default` account: a
    request whose bound token names one of its pods, `web-7d4b9c8f6d-x2x9q` for Deployment `web`);
  * it mounts a projected `serviceAccountToken` itself (it reads the token from its own volume).

A pod that says `automountServiceAccountToken: true` decides for itself; that is the mutator's business.

Before (argo-cd's install.yaml): the StatefulSet `argocd-application-controller` runs as the ServiceAccount of that
name, which the file's RoleBinding and ClusterRoleBinding bind; `restricted` used to add
`automountServiceAccountToken: false` to its pod. Now it keeps the token and the report says
"keeps its service account token: ServiceAccount argocd-application-controller is bound by
RoleBinding/argocd/argocd-application-controller".

Pure: objects in, an `ApiUse` out. The audit log is read by the caller (`read_audit_log`) and passed as requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from kharden.find import PodTarget, find_pod_targets
from kharden.model import Finding, ObjectRef, Path
from kharden.read import KObject

if TYPE_CHECKING:  # kharden.generators imports this module: the audit log's record is only a type here
    from kharden.generators.rbac.auditlog import Request

ACCESS = "kharden.dev/access"
ALL_SA_GROUP = "system:serviceaccounts"
SA_USER = "system:serviceaccount:"

# One subject a binding names: (kind "sa" | "ns-group" | "all", namespace or None, name or None), and its label.
Subject = tuple[str, "str | None", "str | None"]


@dataclass(frozen=True)
class Binding:
    """Who one RoleBinding/ClusterRoleBinding grants to."""

    label: str  # "RoleBinding/argocd/argocd-server"
    subjects: tuple[Subject, ...]


@dataclass
class ApiUse:
    """The reasons each workload (by object, then pod template path) uses the API; empty: it does not."""

    reasons: dict[tuple[ObjectRef, Path], list[str]] = field(default_factory=dict)
    bindings: tuple[Binding, ...] = ()

    def of(self, target: PodTarget) -> list[str]:
        return self.reasons.get((target.obj.ref, target.template), [])

    def note(self, target: PodTarget) -> Finding | None:
        return note_for(target, self.of(target))

    def account_bound(self, namespace: str | None, name: str, by_name_only: bool = False) -> list[str]:
        """Why ServiceAccount namespace/name is bound ("bound by RoleBinding/x"); `by_name_only`: only bindings that
        name it (a group binding still holds when a workload moves to another account of the namespace)."""
        out = []
        for b in self.bindings:
            for kind, ns, sa in b.subjects:
                if kind == "sa" and sa == name and _same_namespace(ns, namespace):
                    out.append(f"ServiceAccount {name} is bound by {b.label}")
                elif not by_name_only and kind == "ns-group" and _same_namespace(ns, namespace):
                    out.append(f"{b.label} binds every ServiceAccount of namespace {ns}")
                elif not by_name_only and kind == "all":
                    out.append(f"{b.label} binds every ServiceAccount ({ALL_SA_GROUP})")
        return list(dict.fromkeys(out))


def _same_namespace(a: str | None, b: str | None) -> bool:
    """None is a namespace the input leaves to `kubectl -n`: it may be any, so it matches (as the rbac generator's
    `find_account` does): keeping a token wrongly costs less than cutting a used one."""
    return a is None or b is None or a == b


def read_bindings(objects: Iterable[KObject]) -> list[Binding]:
    """The subjects of every RoleBinding and ClusterRoleBinding among the objects."""
    return [b for o in objects if (b := binding_of(o.data)) is not None]


def binding_of(data: Any) -> Binding | None:
    """The Binding a RoleBinding/ClusterRoleBinding mapping makes; None for anything else or one binding no account."""
    if not isinstance(data, dict) or data.get("kind") not in ("RoleBinding", "ClusterRoleBinding"):
        return None
    if not str(data.get("apiVersion", "")).startswith("rbac.authorization.k8s.io/"):
        return None
    meta = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    ns = str(meta["namespace"]) if meta.get("namespace") else None
    subjects = tuple(s for x in _list(data.get("subjects")) if (s := _subject(x, ns)) is not None)
    label = f"{data['kind']}/{ns + '/' if ns else ''}{meta.get('name')}"
    return Binding(label, subjects) if subjects else None


def _subject(s: Any, binding_ns: str | None) -> Subject | None:
    if not isinstance(s, dict) or not isinstance(s.get("name"), str):
        return None
    kind, name = s.get("kind"), s["name"]
    if kind == "ServiceAccount":
        ns = s.get("namespace") or binding_ns
        return ("sa", str(ns) if ns else None, name)
    if kind == "User" and name.startswith(SA_USER) and name.count(":") == 3:
        _, _, ns, sa = name.split(":")
        return ("sa", ns, sa)
    if kind == "Group" and name == ALL_SA_GROUP:
        return ("all", None, None)
    if kind == "Group" and name.startswith(ALL_SA_GROUP + ":"):
        return ("ns-group", name[len(ALL_SA_GROUP) + 1 :], None)
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def account_of(spec: dict[str, Any]) -> str:
    """The ServiceAccount a pod spec runs as (`serviceAccount` is the deprecated spelling)."""
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "default")


def learn(
    objects: list[KObject],
    pod_templates: dict[tuple[str, str], Path] | None = None,
    *,
    annotation: str = ACCESS,
    requests: list[Request] | None = None,
    audit_log: str = "the audit log",
    bindings: tuple[Binding, ...] | None = None,
) -> ApiUse:
    """Why each workload among `objects` (the whole input: a binding in one file counts for a Deployment in
    another) uses the API. `bindings`: those of the whole input, read already, when `objects` are a part of it."""
    use = ApiUse(bindings=tuple(read_bindings(objects)) if bindings is None else bindings)
    for obj in objects:
        for target in find_pod_targets(obj, pod_templates):
            reasons = _reasons(target, use, annotation, requests or [], audit_log)
            if reasons:
                use.reasons[(obj.ref, target.template)] = reasons
    return use


def given_or_learned(objects: list[KObject], know: Any, pod_templates: dict[tuple[str, str], Path] | None,
                     audit_log: str | None, annotation: str = ACCESS) -> ApiUse:
    """For a generator: what the pipeline learned (`know`, a `kharden.know.Knowledge`), or the same learned here
    when it runs without it (a generator called on its own)."""
    if know is not None:
        learned: ApiUse = know.api_use  # `know` is typed Any: kharden.know imports this module
        return learned
    from kharden.generators.rbac.auditlog import read_audit_log

    return learn(objects, pod_templates, annotation=annotation,
                 requests=read_audit_log(audit_log) if audit_log else None, audit_log=audit_log or "the audit log")


def _reasons(target: PodTarget, use: ApiUse, annotation: str, requests: list[Request], log: str) -> list[str]:
    spec, ref = target.spec, target.obj.ref
    account = account_of(spec)
    out = use.account_bound(ref.namespace, account)
    if target.annotations.get(annotation) is not None:
        out.append(f"it declares {annotation}")
    if any(_calls(r, ref, account) for r in requests):
        out.append(f"{log} shows ServiceAccount {account} calling the API")
    volume = projected_token(spec)
    if volume:
        out.append(f"it mounts a projected service-account token itself (volume {volume})")
    return out


def _calls(req: Request, ref: ObjectRef, account: str) -> bool:
    if req.sa_name != account or not _same_namespace(ref.namespace, req.sa_namespace):
        return False
    if account != "default":
        return True
    return req.pod is not None and (req.pod == ref.name or req.pod.startswith(ref.name + "-"))


def projected_token(spec: dict[str, Any]) -> str | None:
    """The name of a volume of the pod that projects a ServiceAccount token, if one does."""
    for v in _list(spec.get("volumes")):
        projected = v.get("projected") if isinstance(v, dict) else None
        sources = projected.get("sources") if isinstance(projected, dict) else None
        if any(isinstance(s, dict) and "serviceAccountToken" in s for s in _list(sources)):
            return str(v.get("name"))
    return None


NOTE = "kharden.token-kept"


def note_for(target: PodTarget, reasons: list[str]) -> Finding | None:
    """The report's word on a workload that keeps its token for these reasons (None when the pod decides itself)."""
    if not reasons or target.spec.get("automountServiceAccountToken") is not None:
        return None
    path = target.spec_path
    return Finding(target.obj.ref, NOTE, "info", "keeps its service account token: " + "; ".join(reasons), path,
                   target.obj.line(path), "info", "a token in use is never turned off")
