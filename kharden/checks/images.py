"""Image references: mutable tags, registries outside the allowed list, pull policies that do not fit.

| rule id | severity | what |
|---|---|---|
| `image.latest-tag` | error | `:latest`: what runs changes with every push (checkov CKV_K8S_14) |
| `image.untagged` | error | no tag and no digest: the runtime pulls `:latest` (CKV_K8S_14) |
| `image.tag-only` | error | a tag without a digest, where the profile sets `requireDigest: true` (CKV_K8S_43) |
| `image.registry` | error | a registry outside the profile's `allowedRegistries` |
| `image.pull-policy` | warning | a mutable tag pulled `IfNotPresent`/`Never` (explicitly or by default): nodes may run different images (CKV_K8S_15) |
| `image.invalid` | warning | not an image reference (an unrendered template, upper case, ...) |

Every container is looked at: init, regular and ephemeral containers, in built-in kinds and in the profile's
`podTemplates`. A reference pinned by digest (`repo:tag@sha256:...`) is immutable: no tag or pull-policy finding.
`kharden fix --pin-images LOCK` pins references from a lock file (`kharden images lock` writes one); a container
opted out of pinning (`skip.kharden.dev/pinImages[.<container>]`) is still reported, with the opt-out's reason.

    checks:
      images:
        requireDigest: true
        allowedRegistries: [registry.example.com, ghcr.io/my-org]   # a host, or a host/path prefix
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from kharden.find.podspecs import PodTarget
from kharden.images.reference import Reference, ReferenceError, parse
from kharden.model import Finding, Severity
from kharden.options import CheckOptions, dict_field
from kharden.read import KObject

ID = "images"
# lock: reference -> digest, what `fix --pin-images LOCK` pins from (the command line fills it in; a profile may too)

PIN_HINT = "pin it by digest: `kharden fix --pin-images LOCK` (write LOCK with `kharden images lock`)"


@dataclass(frozen=True)
class Options(CheckOptions):
    require_digest: bool = False
    allowed_registries: tuple[str, ...] = ()
    pull_policy: bool = True
    lock: dict[str, str] = dict_field({})  # image -> pinned reference (kharden.images.pin)


def check(pods: list[tuple[KObject, list[PodTarget]]], opts: Options) -> list[Finding]:
    out = []
    for obj, targets in pods:
        for target in targets:
            spared: Any = None  # the target's pinning opt-outs, read when a finding asks for a pin
            for cpath, c in target.containers():
                image = c.get("image")
                if isinstance(image, str):
                    for rule, sev, msg, reason, field in problems(image, c, opts):
                        if reason == PIN_HINT:
                            spared = _spared(target) if spared is None else spared
                            reason = _opted_out(spared, cpath, image) or reason
                        out.append(Finding(obj=obj.ref, rule=rule, severity=sev, message=msg, path=cpath + field,
                                           line=obj.line(cpath + field), reason=reason,
                                           extra={"container": c.get("name"), "image": image}))
    return out


def _spared(target: PodTarget) -> Any:
    from kharden.images.pin_optout import read

    return read(target)[0]


def _opted_out(spared: Any, cpath: Any, image: str) -> str:
    """The reason a container opted out of pinning (`skip.kharden.dev/pinImages[.<c>]`), said where the check
    asks for a pin: the profile's rule still stands (a violation), and the report says who chose to keep the tag."""
    from kharden.images.pin_optout import covering

    out = covering(spared, cpath)
    return f"opted out of pinning ({out.where[-1]}): {out.reason}" if out is not None else ""


Problem = tuple[str, Severity, str, str, tuple[str, ...]]  # rule, severity, message, reason, field (in the container)
IMAGE = ("image",)


def problems(image: str, container: dict[str, Any], opts: Options) -> Iterator[Problem]:
    """What is wrong with one container's image reference under the options."""
    try:
        ref = parse(image)
    except ReferenceError as e:
        yield "image.invalid", "warning", f"image {image!r} is not an image reference: {e.message}", "", IMAGE
        return
    if ref.digest is None:
        if ref.tag is None:
            yield "image.untagged", "error", f"image {image} has no tag: it runs whatever :latest is", PIN_HINT, IMAGE
        elif ref.tag == "latest":
            yield "image.latest-tag", "error", f"image {image} uses the mutable tag :latest", PIN_HINT, IMAGE
        elif opts.require_digest:
            yield "image.tag-only", "error", f"image {image} is not pinned by digest", PIN_HINT, IMAGE
    allowed = opts.allowed_registries or ()
    if allowed and not registry_allowed(ref, allowed):
        yield ("image.registry", "error", f"image {image} comes from {ref.domain}, not an allowed registry "
               f"({', '.join(allowed)})", "", IMAGE)
    if opts.pull_policy:
        yield from _pull_policy(image, ref, container.get("imagePullPolicy"))


def registry_allowed(ref: Reference, allowed: Sequence[str]) -> bool:
    """An entry is a registry host (`quay.io`) or a host/path prefix (`ghcr.io/my-org`); `docker.io` is Docker
    Hub, whatever the reference spells (`nginx`, `index.docker.io/library/nginx`)."""
    for entry in allowed:
        entry = str(entry).rstrip("/")
        if entry == "index.docker.io":
            entry = "docker.io"
        if ref.domain == entry or ref.name.startswith(entry + "/"):
            return True
    return False


def _pull_policy(image: str, ref: Reference, policy: Any) -> Iterator[Problem]:
    if ref.digest is not None:
        return  # immutable: every policy pulls the same bytes
    mutable_default = ref.tag in (None, "latest")  # the kubelet defaults these to Always
    effective = policy if isinstance(policy, str) else ("Always" if mutable_default else "IfNotPresent")
    if effective != "Always":
        how = f"imagePullPolicy {effective}" if policy is not None else "the default imagePullPolicy IfNotPresent"
        yield ("image.pull-policy", "warning", f"image {image} is a mutable tag pulled with {how}: nodes may run "
               "different images", "pin the image by digest, or set imagePullPolicy: Always",
               ("imagePullPolicy",) if policy is not None else ())  # the container: its line is known already
