"""What each image needs: one step the pipeline runs once per pod target, before the mutators.

Knowledge comes, in this order, from: the image configs of `--image-config`, the registry (`--resolve-images`),
both already read by the edge into a `Knowledge`; then the built-in catalog (kharden.images.catalog); else the
image is unknown and today's defaults are assumed. The result is a mapping container path -> ImageFacts that the
mutators read from `target.images` (runAsUser, readOnlyRootFilesystem, capabilities, runAsNonRoot), and notes:
one per container saying what kharden learned and from where, plus warnings where a decision rests on the
runtime (image VOLUMEs) or cannot be made safely (writes into image content).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from kharden.find.podspecs import PodTarget
from kharden.images import catalog
from kharden.images.facts import ASSUMED, ImageFacts
from kharden.know.datadirs import claimed_data_dirs, on_claim
from kharden.model import Finding, Path, Severity
from kharden.read import KObject

RULE = "kharden.image"
TELL_MORE = "--image-config FILE (skopeo inspect --config IMAGE) or --resolve-images tells kharden more"


@dataclass(frozen=True)
class Knowledge:
    """What the edge learned before the pipeline ran: facts per image string, and why some could not be read."""

    facts: Mapping[str, ImageFacts] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)


def images_in(objects: list[KObject], pod_templates: Any = None) -> list[str]:
    """Every distinct image string the objects' containers name, in order of appearance."""
    from kharden.find import find_pod_targets

    seen: dict[str, None] = {}
    for obj in objects:
        for target in find_pod_targets(obj, pod_templates):
            for _, container in target.containers():
                if isinstance(container.get("image"), str):
                    seen[container["image"]] = None
    return list(seen)


def facts_for(image: Any, knowledge: Knowledge | None) -> ImageFacts:
    if not isinstance(image, str):
        return ASSUMED
    if knowledge is not None:
        known = knowledge.facts.get(image)
        if known is not None:
            return known
    return catalog.lookup(image) or ASSUMED


def know_images(target: PodTarget, obj: KObject, knowledge: Knowledge | None, profile: Any) -> list[Finding]:
    """The stage: set `target.images` and return the notes on it (windows pods: nothing, the mutators skip them)."""
    if target.windows:
        return []
    target.images = on_claim(target, obj, learn(target, knowledge))
    read_only = getattr(profile.mutators.get("readOnlyRootFilesystem"), "enabled", False)
    return notes(target, obj, target.images, knowledge, bool(read_only)) + claimed_data_dirs(target, obj, target.images)


def learn(target: PodTarget, knowledge: Knowledge | None) -> dict[Path, ImageFacts]:
    """container path -> facts of its image, for every container of the target."""
    return {path: facts_for(c.get("image"), knowledge) for path, c in target.containers()}


def notes(target: PodTarget, obj: KObject, images: Mapping[Path, ImageFacts], knowledge: Knowledge | None,
          read_only: bool) -> list[Finding]:
    """One note per container on what kharden knows of its image, and warnings that need a person."""
    out: list[Finding] = []
    for path, container in target.containers():
        facts = images[path]
        name = container.get("name")
        image = container.get("image")
        extra = {"container": name, "image": image, "source": facts.source}
        error = knowledge.errors.get(image) if knowledge is not None and isinstance(image, str) else None
        if error:
            went_on = "its defaults" if not facts.known else "the catalog" if facts.source == "catalog" else (
                "the image config alone")
            out.append(_finding(obj, path, "warning", f"container {name}: {error}; kharden went on with {went_on}",
                                extra))
        out.append(_finding(obj, path, "info", f"container {name}: image {image}: {describe(facts)}", extra))
        if read_only:
            out += _warnings(obj, path, name, facts, extra)
        if facts.starts_as_root == "required":
            extra = {**extra, "startsAsRoot": "required"}  # the reason left_pss gives the PSS findings it leaves
            out.append(_finding(obj, path, "warning", (
                f"container {name}: the image's entrypoint must start as root and step down itself: kharden sets no "
                f"user and no runAsNonRoot on it, and keeps {' '.join(facts.capabilities) or 'no capability'} "
                f"beside drop ALL (what stepping down needs)"), extra))
        if target.spec.get("hostNetwork") is True and facts.low_ports and "NET_BIND_SERVICE" not in facts.capabilities:
            out.append(_finding(obj, path, "warning", (
                f"container {name}: the image listens on port(s) {' '.join(map(str, facts.low_ports))} on the "
                f"host network: a non-root user cannot bind them there (the node's "
                f"net.ipv4.ip_unprivileged_port_start applies, not the pod's)"), extra))
    return out


_DESCRIBED: dict[int, tuple[ImageFacts, str]] = {}  # id -> (facts, text): the catalog's facts are a few objects


def describe(facts: ImageFacts) -> str:
    """What kharden knows of an image, in words (the same facts object gives the same text: remembered)."""
    seen = _DESCRIBED.get(id(facts))
    if seen is not None and seen[0] is facts:
        return seen[1]
    text = _describe(facts)
    if len(_DESCRIBED) < 4096:
        _DESCRIBED[id(facts)] = (facts, text)
    return text


def _describe(facts: ImageFacts) -> str:
    if not facts.known:
        return f"unknown to kharden: default user and only the profile's writable paths assumed ({TELL_MORE})"
    where = facts.family or ""
    if not facts.source.startswith("catalog"):
        where = facts.evidence.split(";")[0] + (f", catalog {facts.family}" if facts.family else "")
        where += f" {facts.recognised}" if facts.recognised else ""
    parts = [f"from {facts.source}" + (f" ({where})" if where else "")]
    named = facts.image_user and not facts.image_user.split(":")[0].isdigit() and not facts.root_user
    if facts.user is not None:
        parts.append(f"runs as uid {facts.user}" + (f" gid {facts.group}" if facts.group else "")
                     + (f" (USER {facts.image_user})" if named else ""))
    elif facts.user_unresolved:
        parts.append(f"USER {facts.image_user} has no number kharden knows: default user assumed")
    else:
        parts.append("no user of its own: default user")
    if facts.starts_as_root:
        parts.append({"drops": "its entrypoint steps down from root and also starts as that user",
                      "required": "its entrypoint must start as root"}[facts.starts_as_root])
    if facts.writable:
        parts.append("writes " + " ".join(facts.writable))
    if facts.low_ports:
        parts.append("listens below 1024 on " + " ".join(map(str, facts.low_ports)))
    if facts.capabilities:
        parts.append("needs " + " ".join(facts.capabilities))
    return "; ".join(parts)


def _warnings(obj: KObject, path: Path, name: Any, facts: ImageFacts, extra: dict[str, Any]) -> list[Finding]:
    out = []
    for volume, holds in facts.volumes.items():
        if holds == "empty":
            continue
        what = "holds image content" if holds == "content" else "may hold image content (kharden cannot tell)"
        out.append(_finding(obj, path, "warning", (
            f"container {name}: image VOLUME {volume} {what}: no emptyDir mounted over it. containerd gives "
            f"the container a writable copy owned as in the image; CRI-O only creates the directory, read-only "
            f"with readOnlyRootFilesystem: mount a volume at {volume} if the app writes there"), extra))
    if facts.content_writes:
        out.append(_finding(obj, path, "warning", (
            f"container {name}: the image writes into {' '.join(facts.content_writes)}, which holds image "
            f"content an emptyDir would hide: its root filesystem is left writable"), extra))
    for note in facts.notes:
        out.append(_finding(obj, path, "info", f"container {name}: {note}", extra))
    return out


def _finding(obj: KObject, path: Path, severity: Severity, message: str, extra: dict[str, Any]) -> Finding:
    return Finding(obj.ref, RULE, severity, message, path, None, "info", extra=dict(extra))
