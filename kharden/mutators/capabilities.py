"""capabilities: every container drops ALL capabilities; added ones are kept only if the profile allows them.

    securityContext:             ->   securityContext:
      capabilities:                     capabilities:
        drop: [NET_RAW]                   drop: [NET_RAW, ALL]
        add: [NET_BIND_SERVICE]           add: [NET_BIND_SERVICE]

`drop` is merged, never replaced: existing entries stay as written (their case too) and `ALL` is appended unless an
entry is exactly `ALL` (Pod Security Standards compare exactly, so a lowercase `all` still gets `ALL` beside it).
Options:
  dropAll   append ALL to drop (PSS restricted). Off in the baseline profile: dropping the runtime's default
            capabilities breaks images that chown or switch users at start.
  allowAdd  capabilities `add` may keep (restricted: NET_BIND_SERVICE). Others are removed only with
            `enforce: true`; otherwise they stay and the checker reports them. Names compare case-insensitively
            with or without `CAP_`, so nothing the profile allows is ever removed.
  enforce   remove disallowed `add` entries, and write allowed ones as `allowAdd` spells them
            (`cap_net_bind_service` -> `NET_BIND_SERVICE`: the same capability, which PSS accepts only so).
A kubeaudit `allow-capability-<name>` override keeps that capability for its container.
An image that needs a capability (kharden.know.images: caddy's and coredns' binaries carry NET_BIND_SERVICE as a
file capability; an entrypoint that must start as root needs SETUID/SETGID...) gets it in `add` beside drop ALL.
Windows pods are skipped: the API server rejects capabilities on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from kharden.find.podspecs import PodTarget
from kharden.images.facts import ImageFacts
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, container_sc, containers, image_of, mapping
from kharden.options import ProfileOptions

ID = "capabilities"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    drop_all: bool = True
    allow_add: tuple[str, ...] = ("NET_BIND_SERVICE",)
    enforce: bool = False


def normalize(name: Any) -> str:
    """CAP_chown, chown, CHOWN -> CHOWN."""
    upper = str(name).upper()
    return upper[4:] if upper.startswith("CAP_") else upper


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    for path, container in containers(target, edit):
        caps = mapping(container_sc(container).get("capabilities"))
        caps_path = path + (SC, "capabilities")
        if opts.drop_all:
            _drop_all(caps, caps_path, edit)
        if opts.enforce and isinstance(caps.get("add"), list):
            _remove_disallowed(caps["add"], caps_path, opts.allow_add, edit)
        if opts.drop_all:
            _keep_needed(image_of(target, path), caps_path, edit)


def _keep_needed(facts: ImageFacts, caps_path: Path, edit: Editor) -> None:
    """What the image cannot start without, back after drop ALL: a file capability (execve refuses a binary whose
    `setcap ...=+ep` capability is not in the bounding set) or what an entrypoint that must start as root needs."""
    if not facts.capabilities:
        return
    added = edit.get(caps_path + ("add",))
    have = {normalize(c) for c in added} if isinstance(added, list) else set()
    why = "its entrypoint must start as root" if facts.starts_as_root == "required" else "its binary carries it " \
          "as a file capability, which execve refuses without it"
    for cap in facts.capabilities:
        if normalize(cap) not in have:
            edit.append(caps_path + ("add",), cap, f"{cap} kept for the image ({facts.source}): {why}")


def _drop_all(caps: dict[str, Any], caps_path: Path, edit: Editor) -> None:
    drop = caps.get("drop")
    reason = "containers must drop ALL capabilities (PSS restricted)"
    if drop is None:
        edit.ensure(caps_path + ("drop",), ["ALL"], reason)
    elif not isinstance(drop, list) or "ALL" not in drop:
        edit.append(caps_path + ("drop",), "ALL", reason)


def _remove_disallowed(added: list[Any], caps_path: Path, allowed: Sequence[Any], edit: Editor) -> None:
    allow = {normalize(a) for a in allowed}
    keep = [normalize(c) in allow or edit.skipped(caps_path + ("add", normalize(c))) for c in added]
    if not any(keep):
        edit.remove(caps_path + ("add",), f"capabilities not allowed by the profile removed: {ENFORCED}")
        return
    spelled = {normalize(a): a for a in allowed}
    for index in reversed(range(len(added))):  # from the end, so each recorded index is still right
        if not keep[index]:
            edit.remove(caps_path + ("add", index), f"capability {added[index]} not allowed: {ENFORCED}")
        elif added[index] != spelled.get(normalize(added[index]), added[index]):
            # the same capability in the spelling the PSS check accepts (it compares exactly: cap_net_bind_service
            # is the runtime's NET_BIND_SERVICE, but a restricted violation)
            right = spelled[normalize(added[index])]
            edit.replace(caps_path + ("add", index), right, f"capability {added[index]} written {right}: {ENFORCED}")
