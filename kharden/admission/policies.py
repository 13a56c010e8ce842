"""`kharden generate admission-policies`: the profile as native admission policies, with no webhook to run.

    ValidatingAdmissionPolicy  kharden-pss-<level>: one validation per Pod Security Standards check of the
                               profile's level (kharden.admission.cel_pss), for Pods and every workload template
    ...Binding                 validationActions from --validation-actions (Deny, Warn, Audit), protected
                               namespaces left out
    MutatingAdmissionPolicy    kharden-harden-{pods,workloads,cronjobs}: the profile's mutators as one
                               ApplyConfiguration each (kharden.admission.mutation_cel), reinvocationPolicy
                               IfNeeded, and matchConditions that match only an object something would be added
                               to (a re-invocation, or a re-apply of an object already fixed, matches nothing)
    MutatingAdmissionPolicy    kharden-namespace-labels: Pod Security Admission labels, added where absent
    ...Bindings

API versions (k8s.io/api admissionregistration): ValidatingAdmissionPolicy v1 (GA in 1.30);
MutatingAdmissionPolicy v1beta1 in 1.34-1.35 (beta, off by default: feature gate MutatingAdmissionPolicy and the
admissionregistration.k8s.io/v1beta1 API must be enabled) and v1 from 1.36 (GA).
"""

from __future__ import annotations

from typing import Any

from kharden.admission import apply_cel, cel_pss, mutation_cel
from kharden.admission_settings import resolve
from kharden.errors import UsageError
from kharden.mutators import namespace_labels as namespace_labels_mutator
from kharden.profile import Profile

GROUP = "admissionregistration.k8s.io"
ACTIONS = ("Deny", "Warn", "Audit")
TEMPLATES: list[tuple[str, tuple[str, ...], list[tuple[str, list[str], list[str]]]]] = [
    ("pods", (), [("", ["pods"], ["CREATE"])]),
    ("workloads", ("spec", "template"), [
        ("apps", ["deployments", "statefulsets", "daemonsets", "replicasets"], ["CREATE", "UPDATE"]),
        ("batch", ["jobs"], ["CREATE", "UPDATE"]), ("", ["replicationcontrollers"], ["CREATE", "UPDATE"])]),
    ("cronjobs", ("spec", "jobTemplate", "spec", "template"), [("batch", ["cronjobs"], ["CREATE", "UPDATE"])]),
]


def parse_version(text: str) -> tuple[int, int]:
    try:
        major, minor = (int(p) for p in text.lstrip("v").split(".")[:2])
    except ValueError:
        raise UsageError(f"--kube-version {text!r}: expected MAJOR.MINOR, e.g. 1.36") from None
    return major, minor


def objects(profile: Profile, kube_version: str, actions: list[str]) -> list[dict[str, Any]]:
    version = parse_version(kube_version)
    if version < (1, 30):
        raise UsageError("admission policies need Kubernetes 1.30 or later (ValidatingAdmissionPolicy v1)")
    bad = [a for a in actions if a not in ACTIONS]
    if bad or not actions or {"Deny", "Warn"} <= set(actions):
        raise UsageError(f"--validation-actions: one or more of {', '.join(ACTIONS)}, not Deny with Warn")
    settings = resolve(profile.admission)
    out = []
    if profile.pss in ("baseline", "restricted"):
        out += validating(profile.pss, actions, settings.protected_namespaces)
    if version < (1, 34):
        return out  # MutatingAdmissionPolicy exists from 1.34 (beta)
    api = f"{GROUP}/v1" if version >= (1, 36) else f"{GROUP}/v1beta1"
    mutators: dict[str, Any] = {m: profile.mutators[m] for m in profile.enabled_mutators()}
    for name, prefix, rules in TEMPLATES:
        out += mutating(api, f"kharden-harden-{name}", rules, mutation_cel.root(prefix, mutators),
                        settings.protected_namespaces, windows=True)
    if "namespaceLabels" in mutators:
        out += mutating(api, "kharden-namespace-labels", [("", ["namespaces"], ["CREATE", "UPDATE"])],
                        namespace_labels(mutators["namespaceLabels"]), settings.protected_namespaces, windows=False)
    return out


def _rules(rules: list[tuple[str, list[str], list[str]]]) -> list[dict[str, Any]]:
    return [{"apiGroups": [g], "apiVersions": ["v1"], "operations": ops, "resources": res} for g, res, ops in rules]


def _not_in(namespaces: frozenset[str]) -> dict[str, Any]:
    return {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": sorted(namespaces)}]}}


def _variables() -> list[dict[str, str]]:
    return [{"name": n, "expression": e} for n, e in cel_pss.VARIABLES]


def validating(level: str, actions: list[str], protected: frozenset[str]) -> list[dict[str, Any]]:
    from kharden.checks.pss.registry import active_checks

    name = f"kharden-pss-{level}"
    validations = [{"expression": cel_pss.CHECKS[c.id][0], "message": f"{c.id}: {cel_pss.CHECKS[c.id][1]}",
                    "reason": "Forbidden"} for c, _ in active_checks(level, "latest")]
    rules = [r for _, _, group in TEMPLATES for r in group]
    policy = {"apiVersion": f"{GROUP}/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": name},
              "spec": {"failurePolicy": "Fail", "matchConstraints": {"resourceRules": _rules(rules)},
                       "variables": _variables(), "validations": validations}}
    binding = {"apiVersion": f"{GROUP}/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": name},
               "spec": {"policyName": name, "validationActions": actions, "matchResources": _not_in(protected)}}
    return [policy, binding]


def inline(expression: str) -> str:
    """`expression` without `variables.` (matchConditions are evaluated before the policy's variables exist)."""
    containers = cel_pss.CONTAINERS.replace("variables.spec", f"({cel_pss.SPEC})")
    return expression.replace("variables.containers", f"({containers})").replace("variables.spec", f"({cel_pss.SPEC})")


def mutating(api: str, name: str, rules: list[tuple[str, list[str], list[str]]], apply: apply_cel.Obj,
             protected: frozenset[str], *, windows: bool) -> list[dict[str, Any]]:
    conditions = [{"name": "something-to-add", "expression": inline(apply_cel.needs(apply))}]
    if windows:  # the fields these add are rejected on Windows pods
        conditions.insert(0, {"name": "not-windows",
                              "expression": inline(f"!({cel_pss.WINDOWS})")})
    spec: dict[str, Any] = {"failurePolicy": "Fail", "reinvocationPolicy": "IfNeeded",
                            "matchConstraints": {"resourceRules": _rules(rules)}, "matchConditions": conditions}
    if windows:  # the pod-template policies read the spec through the variables; the Namespace one does not
        spec["variables"] = _variables()
    spec["mutations"] = [{"patchType": "ApplyConfiguration",
                          "applyConfiguration": {"expression": apply_cel.render(apply, typed=True)}}]
    policy = {"apiVersion": api, "kind": "MutatingAdmissionPolicy", "metadata": {"name": name}, "spec": spec}
    binding = {"apiVersion": api, "kind": "MutatingAdmissionPolicyBinding", "metadata": {"name": name},
               "spec": {"policyName": name, "matchResources": _not_in(protected)}}
    return [policy, binding]


def namespace_labels(opts: namespace_labels_mutator.Options) -> apply_cel.Obj:
    """Pod Security Admission labels added where absent (kharden.mutators.namespace_labels without `enforce`)."""
    labels = "object.metadata.?labels"
    entries: list[tuple[str, apply_cel.Set | apply_cel.IfAbsent]] = []
    for mode, level in (opts.modes or {}).items():
        if level is None:
            continue
        key = f"pod-security.kubernetes.io/{mode}"
        entries.append((key, apply_cel.IfAbsent(f"{labels}[?'{key}'].hasValue()", f"'{level}'")))
        if opts.version:
            entries.append((f"{key}-version", apply_cel.IfAbsent(
                f"{labels}[?'{key}'].hasValue() || {labels}[?'{key}-version'].hasValue()", f"'{opts.version}'")))
    excluded = " || ".join(f"object.metadata.name == '{n}'" for n in opts.exclude or []) or "false"
    guarded = [(k, apply_cel.IfAbsent(f"({excluded}) || {f.present}", f.value)) for k, f in entries
               if isinstance(f, apply_cel.IfAbsent)]
    meta = apply_cel.Obj(("metadata",), (("labels", apply_cel.Set(apply_cel.Obj(None, tuple(guarded)))),))
    return apply_cel.Obj((), (("metadata", apply_cel.Set(meta)),))
