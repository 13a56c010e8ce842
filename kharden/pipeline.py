"""The pipeline: read -> find pod specs -> mutate -> generate -> (render elsewhere).

Pure: takes parsed sources and a profile, edits the live objects, returns the record. No I/O, no printing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from kharden.find import find_pod_targets
from kharden.generators import GENERATORS
from kharden.model import Change, Finding
from kharden.mutators import MUTATORS
from kharden.mutators.base import Editor
from kharden.profile import Profile
from kharden.read import KObject, Source


@dataclass
class Result:
    sources: list[Source]
    objects: list[KObject]
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding], *,
           audit_log: str | None = None, bindings: Any = None) -> Any:
    """Run the enabled mutators over every object. What they decide from other objects (a binding keeps a pod's
    token) is learned first (`kharden.know`); `bindings`: the whole input's, when `objects` is one file of it."""
    from kharden.know import learn, protected

    know = learn(objects, profile, audit_log=audit_log, bindings=bindings)
    enabled = [(MUTATORS[mid], profile.mutators[mid]) for mid in profile.enabled_mutators()]
    per_object = any(mutator.SCOPE != "pod" for mutator, _ in enabled)
    for obj in objects:
        if protected.covers(obj.ref, know.protected):  # the cluster's own: report, do not change
            findings += protected.would_change(obj, lambda o, c, f: _mutate_object(o, enabled, per_object, profile,
                                                                                   c, f, know))
        else:
            _mutate_object(obj, enabled, per_object, profile, changes, findings, know)
    return know


def _mutate_object(obj: KObject, enabled: list[tuple[Any, dict[str, Any]]], per_object: bool, profile: Profile,
                   changes: list[Change], findings: list[Finding], know: Any) -> None:
    from kharden.mutators import optouts

    # Each target's opt-outs are read once and serve all its mutators.
    pods = [(t, optouts.collect(t, obj)) for t in find_pod_targets(obj, profile.pod_templates)]
    whole = [(obj, optouts.collect(obj, obj))] if per_object else []
    for mutator, opts in enabled:
        for target, outs in pods if mutator.SCOPE == "pod" else whole:
            optouts.run(mutator, target, obj, opts, changes, findings, outs, know)
    if pods and know.api_use.reasons and any(m.ID == "automountServiceAccountToken" for m, _ in enabled):
        findings += [f for t, _ in pods if (f := know.api_use.note(t)) is not None]


Hidden = Callable[[str, KObject], bool]  # (generator id, object): keep this object from that generator


def generate(result: Result, profile: Profile, enabled: bool | None, hidden: Hidden | None = None,
             **gen_args: Any) -> None:
    from kharden.know import protected

    spared = frozenset(profile.protected_namespaces)
    held = protected.Held()  # the edits generators would make to protected objects: made on copies, reported
    for gid, opts in profile.generators.items():
        on = opts.get("enabled") if enabled is None else enabled
        if on:
            out = GENERATORS[gid].generate(
                result.objects if hidden is None else [o for o in result.objects if not hidden(gid, o)],
                opts,
                lambda o, g=gid: (held.editor(o, g) if protected.covers(o.ref, spared)
                                  else Editor(o, g, result.changes)),
                pod_templates=profile.pod_templates,
                generated=list(result.generated),
                **gen_args,
            )
            for o in out.objects:  # nothing is generated into a protected namespace: reported instead
                if (o.get("metadata") or {}).get("namespace") in spared:
                    result.findings.append(protected.dropped(o, gid))
                else:
                    result.generated.append(o)
            # what a generator says about a protected object concerns edits and policies not made there
            result.findings += [f for f in out.findings if f.obj is None or not protected.covers(f.obj, spared)]
    result.findings += held.report()


def harden(
    sources: list[Source],
    profile: Profile,
    *,
    generate_: bool | None = None,
    objects: list[KObject] | None = None,
    hidden_from_generators: Hidden | None = None,
    **gen_args: Any,
) -> Result:
    """Mutate and generate; then report what is still wrong at the profile's PSS level as `unfixed`.

    `objects`: only these are hardened (default: every object of the sources), for edges whose input holds objects
    that are never deployed (kpt's Kptfile, local-config). `hidden_from_generators(generator id, object)`: objects
    hardened but kept from a generator (Helm hooks and the RBAC generator: kharden.integrations.helm).
    """
    result = Result(sources, [o for s in sources for o in s.objects()] if objects is None else objects)
    know = mutate(result.objects, profile, result.changes, result.findings, audit_log=gen_args.get("audit_log"))
    generate(result, profile, generate_, hidden_from_generators, know=know, **gen_args)
    result.findings += unfixed(result.objects, profile, result.findings)
    return result


def unfixed(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    """PSS violations and deprecated API versions left after mutation, each with the reason kharden did not fix it.
    File by file, as `fix -j` (which reports each file apart) gives them."""
    order: dict[str, int] = {}
    for o in objects:
        order.setdefault(o.ref.file, len(order))
    left = _unfixed_pss(objects, profile, notes) + api_versions(objects, profile, None, fixing=True)
    return sorted(left, key=lambda f: order.get(f.obj.file, 0) if f.obj is not None else 0)


def api_versions(objects: list[KObject], profile: Profile | None, kube_version: str | None,
                 fixing: bool = False) -> list[Finding]:
    """Objects of API versions deprecated or removed at the target: `--kube-version`, else the profile's
    `mutators.apiVersions.kubeVersion`, else the newest release the table knows."""
    from kharden.apiversions.table import target_of
    from kharden.checks.apiversions import check_api_versions

    opts = profile.mutators.get("apiVersions", {}) if profile is not None else {}
    target = target_of(kube_version or opts.get("kubeVersion"))
    return check_api_versions(objects, target, fixing=fixing, migrating=profile is None or bool(opts.get("enabled")),
                              spared=profile.protected_namespaces if profile is not None else ())


def _unfixed_pss(objects: list[KObject], profile: Profile, notes: list[Finding]) -> list[Finding]:
    from dataclasses import replace

    from kharden.checks.pss import check_objects, left_because

    if profile.pss not in ("baseline", "restricted"):
        return []
    def why(f: Finding) -> str:
        return f"opted out: {f.reason}" if f.reason else f"opted out without a reason ({f.message})"

    opted = {(f.obj, f.extra.get("container")): why(f) for f in notes if f.status == "opted-out"}
    opted_any = {f.obj: why(f) for f in notes if f.status == "opted-out"}
    from kharden.know import protected

    spared = {o.ref: protected.LEFT for o in objects if protected.covers(o.ref, profile.protected_namespaces)}
    enabled = set(profile.enabled_mutators())
    out = []
    for f in check_objects(objects, profile.pss, "latest", profile.pod_templates):
        reason = (
            spared.get(f.obj)  # type: ignore[arg-type]
            or opted.get((f.obj, f.extra.get("container")))
            or opted.get((f.obj, None))
            or (f.extra.get("container") is None and opted_any.get(f.obj))  # a pod-level field, one opted container
            or left_because(f.rule, enabled)
        )
        out.append(replace(f, status="unfixed", reason=reason))
    return out


def check(
    sources: list[Source], *, pss: str | None, version: str = "latest", profile: Profile | None = None,
    kube_version: str | None = None,
) -> list[Finding]:
    """Violations: the PSS controls of a level, plus (with a profile) every change the profile would make."""
    objects = [o for s in sources for o in s.objects()]
    groups = check_groups(objects, pss=pss, version=version, profile=profile, kube_version=kube_version)
    return [f for group in groups for f in group]


def check_groups(
    objects: list[KObject], *, pss: str | None, version: str = "latest", profile: Profile | None = None,
    kube_version: str | None = None, **context: Any,
) -> list[list[Finding]]:
    """`check`'s findings in their groups, each in object order. `check -j` checks files apart and joins their
    results group by group, so its report is the serial one, byte for byte. `context`: what `mutate` must know of
    the whole input when `objects` is one file of it (`bindings`)."""
    from kharden.checks.pss import check_objects

    level = pss or (profile.pss if profile else "restricted")
    templates = profile.pod_templates if profile else None
    groups = [check_objects(objects, level, version, templates) if level in ("baseline", "restricted") else []]
    from kharden.checks.rbac import check_rbac

    groups.append(check_rbac(objects))
    if profile is not None or kube_version:  # `--pss` alone: exactly the PSS controls (and risky RBAC, as before)
        groups.append(api_versions(objects, profile, kube_version))
    if profile is not None:
        changes: list[Change] = []
        notes: list[Finding] = []
        mutate(objects, profile, changes, notes, **context)
        by_ref = {o.ref: o for o in objects}
        groups += [[_pending(c, by_ref[c.obj]) for c in changes], notes]
    return groups


def _pending(change: Change, obj: KObject) -> Finding:
    """A change the profile would make, reported as a fixable violation (kubeaudit's 'pending fix')."""
    return Finding(
        obj=change.obj,
        rule=f"kharden.{change.mutator}",
        severity="error",
        message=change.reason,
        path=change.path,
        line=obj.line(change.path),
        status="fixable",
    )
