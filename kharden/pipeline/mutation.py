"""The mutate stage: every enabled mutator on every pod target, after what they decide from is learned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.cluster.flags import static_control_plane
from kharden.find import find_pod_targets
from kharden.know import Knowledge, learn, protected
from kharden.know.images import Knowledge as Images
from kharden.know.images import know_images
from kharden.model import Change, Finding
from kharden.mutators import MUTATORS, optouts
from kharden.options import ProfileOptions
from kharden.profile import Profile
from kharden.read import KObject


def mutate(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding], *,
           audit_log: str | None = None, images: Images | None = None, know: Knowledge | None = None) -> Knowledge:
    """Every enabled mutator, in the registry's order, on every pod target (or object) with its opt-outs; then,
    with a lock (`fix --pin-images LOCK`), the object's images pinned. What the mutators decide from other objects
    (a binding keeps a pod's token) is learned first (`kharden.know`), and per pod target what each container's
    image needs (kharden.know.images); objects in a protected namespace are mutated on copies, and what would
    change is reported. `know`: learned already from the whole input, when `objects` are a part of it."""
    from kharden.images.pin import pinner

    know = know or learn(objects, profile, audit_log=audit_log)
    enabled = [(MUTATORS[mid], profile.mutators[mid]) for mid in profile.enabled_mutators()]
    per_object = any(mutator.SCOPE != "pod" for mutator, _ in enabled)
    image_aware = bool({"runAsUser", "readOnlyRootFilesystem"} & {m.ID for m, _ in enabled})
    step = _Step(enabled, per_object, profile, know, images if image_aware else _NO_IMAGES)
    pin = pinner(profile)  # only with a lock (`fix --pin-images LOCK`)
    for obj in objects:
        # the cluster's own: report, do not change (a static control-plane pod excepted: it gets its flags only)
        if protected.covers(obj.ref, know.protected) and not static_control_plane(obj):
            findings += protected.would_change(obj, lambda o, c, f: step(o, c, f, None))
            if pin is not None:  # asked for by name, and the same image runs: pinned there too
                pin(find_pod_targets(obj, profile.pod_templates), changes, findings)
        else:
            step(obj, changes, findings, pin)
    return know


_NO_IMAGES: Any = object()  # no mutator that reads images is on: the know stage is skipped


@dataclass
class _Step:
    """One object through the enabled mutators: what its images need, then each mutator on each target."""

    enabled: list[tuple[Any, ProfileOptions]]
    per_object: bool
    profile: Profile
    know: Knowledge
    images: Any  # Images | None, or _NO_IMAGES

    def __call__(self, obj: KObject, changes: list[Change], findings: list[Finding], pin: Any) -> None:
        # Each target's opt-outs are read once and serve all its mutators.
        pods = [(t, optouts.collect(t, obj)) for t in find_pod_targets(obj, self.profile.pod_templates)]
        if self.images is not _NO_IMAGES:
            for pod, _ in pods:
                findings += know_images(pod, obj, self.images, self.profile)
        whole = [(obj, optouts.collect(obj, obj))] if self.per_object else []
        enabled = self.enabled
        if pods and static_control_plane(obj):  # hardened by its flags only (docs/cluster.md): no pod-security edit
            enabled = [(m, o) for m, o in enabled if m.SCOPE != "pod" or m.ID == "controlPlane"]
        for mutator, opts in enabled:
            for target, outs in pods if mutator.SCOPE == "pod" else whole:
                optouts.run(mutator, target, obj, opts, changes, findings, outs, self.know)
        if pods and self.know.api_use.reasons and any(m.ID == "automountServiceAccountToken" for m, _ in self.enabled):
            findings += [f for t, _ in pods if (f := self.know.api_use.note(t)) is not None]
        if pin is not None:
            pin([t for t, _ in pods], changes, findings)
