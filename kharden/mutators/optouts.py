"""Opt-outs: a workload (or one container) says which mutator to leave alone, and why.

    metadata:
      annotations:
        skip.kharden.dev/readOnlyRootFilesystem: "writes its cache to /var/lib/app"     # the whole workload
        skip.kharden.dev/capabilities.proxy: "needs NET_ADMIN for iptables"              # one container

The annotation may sit on the object's metadata or on its pod template's. Every opt-out is reported (status
"opted-out", rule `kharden.<ID>`, with its reason and line); one that changed nothing (the mutator, run on a copy
without it, would have made the same changes) is reported as `kharden.unneeded-opt-out`, as is one naming a
container the pod does not have.

For users coming from kubeaudit, its override labels keep the setting kubeaudit would have flagged:
`container.kubeaudit.io/<c>.allow-<x>` (one container), `kubeaudit.io/allow-<x>` (the pod), and the older
`container.audit.kubernetes.io/<c>.allow-<x>` / `audit.kubernetes.io/pod.allow-<x>`. Some map to a whole mutator
(`allow-privileged` -> privileged), some to one field (`allow-capability-chown` keeps CHOWN in `add`,
`allow-namespace-host-network` keeps `hostNetwork`); the Editor's skip set holds container paths and such field paths.
A skip annotation naming no mutator (a typo) is reported once as `kharden.unknown-opt-out`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Union

from kharden.find.podspecs import PodTarget, get
from kharden.mutators import MUTATORS
from kharden.model import Change, Finding, Path
from kharden.mutators.base import Editor, Mutator
from kharden.mutators.common import SC, mapping
from kharden.options import ProfileOptions
from kharden.read import KObject

SKIP = "skip.kharden.dev/"
# ids that take opt-outs but are no mutator: the step that honours them reads them (`naming`) and reports them
NOT_MUTATORS = ("pinImages",)  # fix --pin-images (kharden.images.pin_optout)
# kubeaudit override -> (mutator, where the kept field lives: "container" or "pod", field path below that)
KUBEAUDIT: dict[str, list[tuple[str, str, Path]]] = {
    "privileged": [("privileged", "container", ())],
    "privilege-escalation": [("allowPrivilegeEscalation", "container", ())],
    "run-as-root": [("runAsNonRoot", "container", ()), ("runAsUser", "container", ())],
    "read-only-root-filesystem-false": [("readOnlyRootFilesystem", "container", ())],
    "automount-service-account-token": [("automountServiceAccountToken", "pod", ())],
    "namespace-host-network": [("hostNamespaces", "pod", ("hostNetwork",))],
    "namespace-host-PID": [("hostNamespaces", "pod", ("hostPID",))],
    "namespace-host-IPC": [("hostNamespaces", "pod", ("hostIPC",))],
    "disabled-apparmor": [("seccompProfile", "container", (SC, "appArmorProfile"))],
}
POD_LABELS = ("kubeaudit.io/allow-", "audit.kubernetes.io/pod.allow-")
CONTAINER_LABELS = ("container.kubeaudit.io/", "container.audit.kubernetes.io/")
_KUBEAUDIT_PREFIXES = POD_LABELS + CONTAINER_LABELS  # a label that starts otherwise is no kubeaudit override


@dataclass(frozen=True)
class OptOut:
    mutator: str
    scopes: tuple[Path, ...]  # () = the whole workload; else container paths and/or field paths to keep
    reason: str
    where: Path  # the annotation or label that says so
    what: str  # for messages: "the workload", "container web", "field hostNetwork"
    container: str | None = None  # the container it names, if one (reports match it to that container's findings)


@dataclass(frozen=True)
class OptOuts:
    """Every opt-out on one target, read once (`collect`); each mutator takes those naming it (`naming`)."""

    outs: tuple[OptOut, ...] = ()
    problems: tuple[tuple[str | None, Finding], ...] = ()  # (the mutator it concerns; None: all, a misspelt id)

    def naming(self, mutator_id: str) -> tuple[list[OptOut], list[Finding]]:
        """The opt-outs naming this mutator, and the problems its run reports, in the order they were written."""
        outs = [out for out in self.outs if out.mutator == mutator_id]
        return outs, [p for mid, p in self.problems if mid is None or mid == mutator_id]


_NONE = OptOuts()  # what almost every target has: collect hands out this one


def run(mutator: Mutator, target: Any, obj: KObject, opts: ProfileOptions, changes: list[Change],
        findings: list[Finding], optouts: OptOuts, know: Any = None) -> None:
    """Apply one mutator to one target, honouring (and reporting) the opt-outs that name it. `optouts` is
    `collect(target, obj)`: no mutator edits skip annotations, kubeaudit labels or container names, so one reading
    serves every mutator of the target."""
    outs, problems = optouts.naming(mutator.ID) if optouts.outs or optouts.problems else ((), ())
    if not outs and not problems:  # most targets opt out of nothing
        mutator.apply(target, opts, Editor(obj, mutator.ID, changes, know=know))
        return
    findings += [p for p in problems if p not in findings]  # a misspelt id is seen by every mutator: report it once
    skip = {scope for out in outs for scope in out.scopes}
    whole = any(not out.scopes for out in outs)
    if whole:
        unneeded = ([out for out in outs if not out.scopes] if not _trial(mutator, target, obj, opts, set(), know)
                    else [])
    else:
        with_all = _trial(mutator, target, obj, opts, skip, know) if outs else None
        unneeded = [out for out in outs
                    if _trial(mutator, target, obj, opts, skip - set(out.scopes), know) == with_all]
    # each opt-out is reported once: applied, or not needed (both were said of one kubeaudit label)
    for out in outs:
        findings.append(_unneeded(obj, out, mutator.ID) if out in unneeded else
                        _finding(obj, out, f"{mutator.ID} opted out for {out.what}", "info", "opted-out"))
    if not whole:
        mutator.apply(target, opts, Editor(obj, mutator.ID, changes, skip=skip, know=know))


def _trial(mutator: Mutator, target: Any, obj: KObject, opts: ProfileOptions, skip: set[Path],
           know: Any = None) -> list[tuple[Any, ...]]:
    """The changes the mutator would make on a copy of the object with this skip set."""
    twin = KObject(obj.ref, copy.deepcopy(obj.data), obj.doc)
    twin_target = PodTarget(twin, target.template, target.images) if isinstance(target, PodTarget) else twin
    scratch: list[Change] = []
    mutator.apply(twin_target, opts, Editor(twin, mutator.ID, scratch, skip=skip, know=know))
    return [(c.op, c.path, c.new) for c in scratch]


def collect(target: Union[PodTarget, KObject], obj: KObject) -> OptOuts:
    """The opt-outs on this target, and findings for those that name no such mutator or container."""
    names = {str(c.get("name")): p for p, c in target.containers()} if isinstance(target, PodTarget) else {}
    outs: list[OptOut] = []
    problems: list[tuple[str | None, Finding]] = []
    for meta in _metadata_paths(target):
        for key, value in mapping(mapping(get(obj.data, meta)).get("annotations")).items():
            where = meta + ("annotations", key)
            if not str(key).startswith(SKIP):
                continue
            mid, _, container = str(key)[len(SKIP) :].partition(".")
            if mid not in MUTATORS and mid not in NOT_MUTATORS:
                problems.append((None, _unknown(obj, where, mid)))
            elif not container:
                outs.append(OptOut(mid, (), str(value), where, "the workload"))
            elif container in names:
                outs.append(OptOut(mid, (names[container],), str(value), where, f"container {container}", container))
            else:
                problems.append((mid, _no_container(obj, where, container)))
        for key, value in mapping(mapping(get(obj.data, meta)).get("labels")).items():
            if str(key).startswith(_KUBEAUDIT_PREFIXES):
                outs += _kubeaudit(str(key), str(value), meta + ("labels", key), target, names)
    return OptOuts(tuple(outs), tuple(problems)) if outs or problems else _NONE


def _kubeaudit(key: str, value: str, where: Path, target: Any, names: dict[str, Path]) -> list[OptOut]:
    container, allow = _parse_label(key)
    if allow is None or not isinstance(target, PodTarget):
        return []
    entries = list(KUBEAUDIT.get(allow, []))
    if allow.startswith("capability-"):
        entries.append(("capabilities", "container", (SC, "capabilities", "add", allow[11:].upper().replace("-", "_"))))
    outs = []
    for mutator, level, field in entries:
        if container is not None and (level == "pod" or container not in names):
            continue
        if level == "pod":
            scopes: tuple[Path, ...] = (target.spec_path + field,) if field else ()
        elif container is not None:
            scopes = (names[container] + field,)
        else:
            scopes = tuple(p + field for p in names.values()) if field else ()
        what = "the workload" if container is None else f"container {container}"
        what += f" ({field[-1]})" if field else ""
        outs.append(OptOut(mutator, scopes, value, where, what + " (kubeaudit override)", container))
    return outs


def _parse_label(key: str) -> tuple[str | None, str | None]:
    """(container or None for the pod, the allow-<x> part) of a kubeaudit override label, else (None, None)."""
    for prefix in POD_LABELS:
        if key.startswith(prefix):
            return None, key[len(prefix) :]
    for prefix in CONTAINER_LABELS:
        if key.startswith(prefix):
            container, sep, allow = key[len(prefix) :].partition(".allow-")
            if sep:
                return container, allow
    return None, None


def _metadata_paths(target: Union[PodTarget, KObject]) -> list[Path]:
    paths: list[Path] = [("metadata",)]
    if isinstance(target, PodTarget) and target.meta_path not in paths:
        paths.append(target.meta_path)
    return paths


def _finding(obj: KObject, out: OptOut, message: str, severity: str, status: str) -> Finding:
    extra = {"mutator": out.mutator, **({"container": out.container} if out.container else {})}
    # the reason is the finding's reason, printed once after the message ("reason (reason)" before)
    return Finding(obj.ref, f"kharden.{out.mutator}", severity, message,  # type: ignore[arg-type]
                   out.where, obj.line(out.where), status, out.reason, extra)  # type: ignore[arg-type]


def _unneeded(obj: KObject, out: OptOut, mid: str) -> Finding:
    message = f"{out.where[-1]}: not needed, {mid} would change nothing for {out.what}"
    extra = {"mutator": out.mutator, **({"container": out.container} if out.container else {})}
    return Finding(obj.ref, "kharden.unneeded-opt-out", "warning", message, out.where, obj.line(out.where),
                   "open", out.reason, extra)


def _unknown(obj: KObject, where: Path, mid: str) -> Finding:
    message = f"{where[-1]}: there is no mutator {mid}; known: {', '.join(MUTATORS)}"
    return Finding(obj.ref, "kharden.unknown-opt-out", "warning", message, where, obj.line(where), "open")


def _no_container(obj: KObject, where: Path, container: str) -> Finding:
    return Finding(obj.ref, "kharden.unneeded-opt-out", "warning", f"{where[-1]}: the pod has no container {container}",
                   where, obj.line(where), "open")
