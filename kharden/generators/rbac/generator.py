"""Generator `rbac`: a ServiceAccount per workload, its token only where it is used, and least-privilege Roles.

1. A workload (any pod-bearing kind) running as the `default` ServiceAccount, or naming none, gets its own
   ServiceAccount named after the workload (generated unless the input has one of that name) and
   `serviceAccountName` on its pod spec:

       spec:                                  spec:
         template:                              template:
           spec:                       ->         spec:
             containers: [...]                      containers: [...]
                                                    serviceAccountName: web
   plus a generated `ServiceAccount/web` with `automountServiceAccountToken: false`.

2. A ServiceAccount *needs the API* when a workload using it declares access (`kharden.dev/access`, see
   `kharden/generators/rbac/access.py`), the audit log shows it calling the API, a RoleBinding or ClusterRoleBinding in
   the input binds it (by name, as the user `system:serviceaccount:NS:NAME`, or through the groups
   `system:serviceaccounts[:NS]`), a pod using it mounts a projected token itself, or sets
   `automountServiceAccountToken: true`: the evidence `kharden.know.api_use` reads for the pod-level mutator too.
   A workload on `default` that a binding names stays there (`rbac.default-bound`): its own account would lose
   what the binding grants. Generated ServiceAccounts that
   need the API keep the token; ServiceAccounts in the input that do not need it get
   `automountServiceAccountToken: false` added (an explicit `true` is reported, never overwritten).

3. For the declared and the logged access, Roles + RoleBindings in the namespaces used, and a ClusterRole +
   ClusterRoleBinding only for cluster-scoped resources (or logged requests made without a namespace).

Options (profile `generators.rbac`): `serviceAccounts` (step 1), `automount` (the token part of step 2),
`roles` (step 3), `annotation` (the annotation key to read).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from kharden.find import PodTarget, find_pod_targets
from kharden.generators.base import Generated
from kharden.generators.rbac import build
from kharden.generators.rbac.rules import build_rules
from kharden.generators.rbac.usage import Account, Key, account_of, collect_access, find_account, observed_access
from kharden.know.api_use import ApiUse, given_or_learned, projected_token
from kharden.model import Finding, Path
from kharden.mutators.base import Editor
from kharden.options import ProfileOptions
from kharden.read import KObject

ID = "rbac"

Taken = dict[tuple[str, str | None, str], KObject]  # (kind, namespace, name) of every input object


@dataclass(frozen=True)
class Options(ProfileOptions):
    service_accounts: bool = True
    automount: bool = True
    roles: bool = True
    annotation: str = "kharden.dev/access"


def generate(
    objects: list[KObject],
    opts: Options,
    editor_for: Callable[[KObject], Editor],
    audit_log: str | None = None,
    pod_templates: dict[tuple[str, str], Path] | None = None,
    **kw: Any,
) -> Generated:
    """ServiceAccounts, Roles and bindings for `objects`; edits pod specs and ServiceAccounts via `editor_for`."""
    out = Generated()
    use = given_or_learned(objects, kw.get("know"), pod_templates, audit_log, opts.annotation)
    accounts = _input_accounts(objects)
    workloads = [t for o in objects for t in find_pod_targets(o, pod_templates)]
    for target in workloads:
        _assign_account(target, opts, editor_for, accounts, use, out.findings)
    _bound_accounts(accounts, use)
    _own_tokens(workloads, accounts, use)
    collect_access(workloads, accounts, opts.annotation, out.findings)
    if audit_log:
        observed_access(audit_log, accounts, out.findings)
    for acc in accounts.values():
        if acc.obj is not None and opts.automount and not acc.needs:
            _disable_automount(acc.obj, editor_for, out.findings)
    out.objects += [_generated_sa(a, opts) for _, a in sorted(accounts.items(), key=_order) if a.generated_for]
    if opts.roles:
        taken: Taken = {(o.ref.kind, o.ref.namespace, o.ref.name): o for o in objects}
        for _, acc in sorted(accounts.items(), key=_order):
            out.objects += _roles(acc, taken, out.findings)
    return out


def _order(item: tuple[Key, Account]) -> tuple[str, str]:
    return (item[0][0] or "", item[0][1])


def _input_accounts(objects: list[KObject]) -> dict[Key, Account]:
    return {
        (o.ref.namespace, o.ref.name): Account(o.ref.namespace, o.ref.name, obj=o)
        for o in objects
        if o.ref.kind == "ServiceAccount" and o.ref.api_version == "v1"
    }


def _assign_account(
    target: PodTarget, opts: Options, editor_for: Callable[[KObject], Editor], accounts: dict[Key, Account],
    use: ApiUse, findings: list[Finding],
) -> None:
    """Give a workload on the default ServiceAccount its own; make sure its account is known."""
    obj, spec = target.obj, target.spec
    ns, name = obj.ref.namespace, account_of(spec)
    named = use.account_bound(ns, "default", by_name_only=True) if name == "default" else []
    if named and opts.service_accounts and obj.ref.name:  # its own account would lose what the binding grants
        findings.append(Finding(obj.ref, "rbac.default-bound", "info", f"{obj.ref.label()} stays on the default "
                                f"ServiceAccount: {'; '.join(named)}", target.spec_path, obj.line(target.spec_path),
                                "info", "a workload moved to its own ServiceAccount would lose what that binding "
                                "grants; bind its own account instead, then kharden moves it"))
    elif name == "default" and opts.service_accounts and obj.ref.name:
        name = obj.ref.name
        reason = f"{obj.ref.label()} ran as the namespace's shared default ServiceAccount; it gets its own"
        path = target.spec_path + ("serviceAccountName",)
        editor = editor_for(obj)
        if editor.get(path) is None:
            editor.ensure(path, name, reason)
        else:
            editor.replace(path, name, reason)
        acc = find_account(accounts, ns, name)
        if acc is None:
            acc = accounts[(ns, name)] = Account(ns, name, generated_for=obj.ref.label())
        acc.moved.append((ns, obj.ref.name))
    elif find_account(accounts, ns, name) is None:
        accounts[(ns, name)] = Account(ns, name)  # named but not in the input: nothing to generate or edit
    if spec.get("automountServiceAccountToken") is True:
        acc = find_account(accounts, ns, name)
        assert acc is not None
        acc.needs.append(f"{obj.ref.label()} sets automountServiceAccountToken: true")


def _bound_accounts(accounts: dict[Key, Account], use: ApiUse) -> None:
    """ServiceAccounts the input's bindings grant something (by name, or through a group): they need their token."""
    for acc in accounts.values():
        acc.needs += use.account_bound(acc.namespace, acc.name)


def _own_tokens(workloads: list[PodTarget], accounts: dict[Key, Account], use: ApiUse) -> None:
    """A workload that mounts a projected token itself needs its account's token to be valid for the API."""
    for target in workloads:
        volume = projected_token(target.spec)
        acc = find_account(accounts, target.obj.ref.namespace, account_of(target.spec))
        if volume and acc is not None:
            acc.needs.append(f"{target.obj.ref.label()} mounts a projected service-account token (volume {volume})")


def _disable_automount(obj: KObject, editor_for: Callable[[KObject], Editor], findings: list[Finding]) -> None:
    value = obj.data.get("automountServiceAccountToken")
    if value is None:
        editor_for(obj).ensure(
            ("automountServiceAccountToken",),
            False,
            "no workload using this ServiceAccount needs the Kubernetes API (no declared access, no logged "
            "requests, no binding): its token should not be mounted",
        )
    elif value is True:
        findings.append(
            Finding(
                obj.ref,
                "rbac.automount-enabled",
                "warning",
                f"{obj.ref.label()} sets automountServiceAccountToken: true but no workload using it needs the API",
                ("automountServiceAccountToken",),
                obj.line(("automountServiceAccountToken",)),
                status="unfixed",
                reason="an explicit true is never overwritten; set it to false if nothing uses the token",
            )
        )


def _generated_sa(acc: Account, opts: Options) -> dict[str, Any]:
    keep = bool(acc.needs) or not opts.automount
    reason = f"dedicated ServiceAccount for {acc.generated_for}"
    if acc.needs:
        reason += "; keeps its token: " + "; ".join(acc.needs)
    return build.service_account(acc.name, acc.namespace, keep, reason)


def _ours(obj: KObject) -> bool:
    meta = obj.data.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return isinstance(labels, dict) and labels.get("app.kubernetes.io/managed-by") == "kharden"


def _roles(acc: Account, taken: Taken, findings: list[Finding]) -> list[dict[str, Any]]:
    """Role/RoleBinding per namespace, then ClusterRole/ClusterRoleBinding, for one account's grants."""
    # own namespace first, then other namespaces, then cluster-wide: the order a reader expects
    scopes = sorted({(c, ns) for c, ns, _, _ in acc.grants}, key=lambda s: (s[0], s[1] != acc.namespace, s[1] or ""))
    out: list[dict[str, Any]] = []
    for cluster, ns in scopes:
        if cluster and not acc.namespace:
            findings.append(_no_namespace(acc))
            continue
        out += _scope_roles(acc, cluster, ns, taken, findings)
    return out


def _scope_roles(acc: Account, cluster: bool, ns: str | None, taken: Taken, findings: list[Finding]
                 ) -> list[dict[str, Any]]:
    """The role and its binding for the account's grants in one scope (a namespace, or the cluster): declared
    grants first, then logged ones; none where the input has an object of that name kharden did not make."""
    declared = [u for c, n, u, d in acc.grants if (c, n) == (cluster, ns) and d]
    logged = [u for c, n, u, d in acc.grants if (c, n) == (cluster, ns) and not d]
    rules = build_rules(declared, None) + build_rules(logged, 1)
    name = build.role_name(acc.name, acc.namespace, ns, cluster)
    objs = [build.role(name, ns, rules, cluster), build.binding(name, ns, acc.name, acc.namespace, cluster)]
    where = None if cluster else ns
    present = [(o, taken[(o["kind"], where, name)]) for o in objs if (o["kind"], where, name) in taken]
    foreign = [o["kind"] for o, old in present if not _ours(old)]
    if foreign:  # never replace, nor bind to, an object the input defines under kharden's name
        findings.append(_clash(foreign, where, name))
        return []
    # ones kharden generated earlier are kept (a second run changes nothing); a stale one is reported
    findings += [_stale(old) for o, old in present if _content(o) != _content(old.data)]
    return [o for o in objs if (o["kind"], where, name) not in taken]


def _content(obj: dict[str, Any]) -> Any:
    """What a Role or binding grants, ignoring metadata that may legitimately differ."""
    return {k: v for k, v in obj.items() if k in ("rules", "roleRef", "subjects")}


def _stale(old: KObject) -> Finding:
    return Finding(
        old.ref,
        "rbac.stale",
        "info",
        f"{old.ref.label()} was generated by kharden earlier and differs from what it would generate now; kept",
        status="unfixed",
        reason="kharden never replaces an object of the input; delete it and run again to regenerate",
        line=old.line(),
    )


def _no_namespace(acc: Account) -> Finding:
    return Finding(
        None,
        "rbac.cluster-binding-namespace",
        "warning",
        f"ServiceAccount {acc.name} needs cluster-scoped access but the input does not say its namespace "
        "(a ClusterRoleBinding must name it); "
        "no ClusterRole or ClusterRoleBinding generated",
        status="unfixed",
        reason="set metadata.namespace on the workload so the binding can name the ServiceAccount",
    )


def _clash(kinds: list[str], namespace: str | None, name: str) -> Finding:
    where = f"{namespace}/" if namespace else ""
    return Finding(
        None,
        "rbac.name-clash",
        "warning",
        f"{' and '.join(f'{k}/{where}{name}' for k in kinds)} already in the input, not made by kharden; "
        "no Role or binding generated under that name",
        status="unfixed",
        reason="kharden never replaces or binds to an object the input defines; rename it to let kharden generate",
    )
