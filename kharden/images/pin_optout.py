"""Opting a workload or a container out of digest pinning, as every kharden opt-out is spelled:

    metadata:
      annotations:
        skip.kharden.dev/pinImages: "follows the nightly tag on purpose"        # every container of the workload
        skip.kharden.dev/pinImages.debug: "a throwaway debugging sidecar"      # one container

On the object's or its pod template's annotations (kharden.mutators.optouts reads them). `fix --pin-images LOCK`
leaves the images it names as they are and reports each opt-out (`opted-out`, rule `kharden.pinImages`, the
reason and line); one that spared nothing (every image it covers is pinned already, or no container is left to
it) is reported as `kharden.unneeded-opt-out`, as for the mutators.
"""

from __future__ import annotations

from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.images.reference import ReferenceError, parse
from kharden.model import Finding, Path
from kharden.mutators import optouts
from kharden.read import KObject

ID = "pinImages"


class Spared:
    """The opt-outs of one pod target from pinning, and which of them kept an image from being pinned."""

    def __init__(self, target: PodTarget) -> None:
        self.outs = optouts.collect(target, target.obj).naming(ID)[0]
        self.used: set[int] = set()

    def skips(self, cpath: Path, image: str) -> bool:
        """Whether an opt-out covers this container (and then whether it kept an image unpinned is noted)."""
        for i, out in enumerate(self.outs):
            if not out.scopes or cpath in out.scopes:
                if _pinnable(image):
                    self.used.add(i)
                return True
        return False

    def report(self, obj: KObject) -> list[Finding]:
        """Each opt-out once: applied, or not needed."""
        return [_applied(obj, out) if i in self.used else _unneeded(obj, out) for i, out in enumerate(self.outs)]


def _pinnable(image: str) -> bool:
    try:
        return parse(image).digest is None
    except ReferenceError:
        return False


def _extra(out: Any) -> dict[str, Any]:
    return {"mutator": ID, **({"container": out.container} if out.container else {})}


def _applied(obj: KObject, out: Any) -> Finding:
    return Finding(obj.ref, f"kharden.{ID}", "info", f"{ID} opted out for {out.what}", out.where,
                   obj.line(out.where), "opted-out", out.reason, _extra(out))


def _unneeded(obj: KObject, out: Any) -> Finding:
    return Finding(obj.ref, "kharden.unneeded-opt-out", "warning",
                   f"{out.where[-1]}: not needed, {ID} would change nothing for {out.what}", out.where,
                   obj.line(out.where), "open", out.reason, _extra(out))
