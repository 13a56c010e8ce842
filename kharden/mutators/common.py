"""Small helpers the mutators share: where security contexts live, which containers a mutator may touch."""

from __future__ import annotations

from typing import Any, Sequence

from kharden.find.podspecs import PodTarget
from kharden.images.facts import ASSUMED, ImageFacts
from kharden.model import Path
from kharden.mutators.base import Editor

SC = "securityContext"
ENFORCED = "enforced by the profile (enforce: true)"


def pod_sc(target: PodTarget) -> Path:
    """Path of the pod-level securityContext."""
    return target.spec_path + (SC,)


def mapping(value: Any) -> dict[str, Any]:
    """The value if it is a mapping, else an empty one (absent, null, or a type the Editor will complain about)."""
    return value if isinstance(value, dict) else {}


def containers(target: PodTarget, edit: Editor) -> Sequence[tuple[Path, dict[str, Any]]]:
    """(path, container) for every container not opted out of this mutator."""
    if not edit.skip:  # the common case: nothing opted out
        return target.containers()
    return [(path, container) for path, container in target.containers() if not edit.skipped(path)]


def any_skipped(target: PodTarget, edit: Editor) -> bool:
    """True when some container is opted out: pod-level defaults would reach it, so set fields per container."""
    return bool(edit.skip) and any(edit.skipped(path) for path, _ in target.containers())


def container_sc(container: dict[str, Any]) -> dict[str, Any]:
    return mapping(container.get(SC))


def image_of(target: PodTarget, path: Path) -> ImageFacts:
    """What the container at `path` needs from its image (kharden.know.images); ASSUMED when nothing is known."""
    facts: ImageFacts = target.images.get(path, ASSUMED)
    return facts
