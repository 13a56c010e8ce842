"""Opting a workload or a container out of digest pinning, as every kharden opt-out is spelled:

    metadata:
      annotations:
        skip.kharden.dev/pinImages: "follows the nightly tag on purpose"        # every container of the workload
        skip.kharden.dev/pinImages.debug: "a throwaway debugging sidecar"      # one container

On the object's or its pod template's annotations. `fix --pin-images LOCK`
leaves the images it names as they are and reports each opt-out (`opted-out`, rule `kharden.pinImages`, the
reason and line); one that spared nothing (every image it covers is pinned already, or no container is left to
it) is reported as `kharden.unneeded-opt-out`, as for the mutators.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget, get
from kharden.images.reference import ReferenceError, parse
from kharden.model import Finding, Path
from kharden.read import KObject

ID = "pinImages"
KEY = "skip.kharden.dev/" + ID  # spelled as kharden.mutators.optouts spells every opt-out (read here: the images
# check reads it too, and checks may not import mutators)


@dataclass(frozen=True)
class OptOut:
    scope: Path | None  # the container's path; None: every container of the workload
    reason: str
    where: Path  # the annotation
    container: str | None = None

    @property
    def what(self) -> str:
        return "the workload" if self.container is None else f"container {self.container}"


def read(target: PodTarget) -> tuple[list[OptOut], list[Finding]]:
    """The pinning opt-outs on a target's object or pod template annotations, and one naming no container of it."""
    names = {str(c.get("name")): p for p, c in target.containers()}
    outs: list[OptOut] = []
    problems: list[Finding] = []
    obj = target.obj
    for meta in dict.fromkeys([("metadata",), target.meta_path]):
        metadata = get(obj.data, meta)
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        if not isinstance(annotations, dict):
            continue
        for key, value in annotations.items():
            where = meta + ("annotations", key)
            if key == KEY:
                outs.append(OptOut(None, str(value), where))
            elif str(key).startswith(KEY + "."):
                name = str(key)[len(KEY) + 1:]
                if name in names:
                    outs.append(OptOut(names[name], str(value), where, name))
                else:
                    problems.append(Finding(obj.ref, "kharden.unneeded-opt-out", "warning",
                                            f"{key}: the pod has no container {name}", where, obj.line(where), "open"))
    return outs, problems


def covering(outs: list[OptOut], cpath: Path) -> OptOut | None:
    """The opt-out that covers a container, if one does."""
    return next((o for o in outs if o.scope is None or o.scope == cpath), None)


class Spared:
    """The opt-outs of one pod target from pinning, and which of them kept an image from being pinned."""

    def __init__(self, target: PodTarget) -> None:
        self.outs, self.problems = read(target)
        self.used: set[int] = set()

    def skips(self, cpath: Path, image: str) -> bool:
        """Whether an opt-out covers this container (and then whether it kept an image unpinned is noted)."""
        out = covering(self.outs, cpath)
        if out is None:
            return False
        if _pinnable(image):
            self.used.add(self.outs.index(out))
        return True

    def report(self, obj: KObject) -> list[Finding]:
        """Each opt-out once: applied, or not needed; and those naming no container."""
        return [_applied(obj, out) if i in self.used else _unneeded(obj, out)
                for i, out in enumerate(self.outs)] + self.problems


def _pinnable(image: str) -> bool:
    try:
        return parse(image).digest is None
    except ReferenceError:
        return False


def _extra(out: OptOut) -> dict[str, Any]:
    return {"mutator": ID, **({"container": out.container} if out.container else {})}


def _applied(obj: KObject, out: OptOut) -> Finding:
    return Finding(obj.ref, f"kharden.{ID}", "info", f"{ID} opted out for {out.what}", out.where,
                   obj.line(out.where), "opted-out", out.reason, _extra(out))


def _unneeded(obj: KObject, out: OptOut) -> Finding:
    return Finding(obj.ref, "kharden.unneeded-opt-out", "warning",
                   f"{out.where[-1]}: not needed, {ID} would change nothing for {out.what}", out.where,
                   obj.line(out.where), "open", out.reason, _extra(out))
