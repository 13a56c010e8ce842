"""`kharden fix --pin-images LOCK`: every image reference pinned to the digest its lock names.

    image: nginx:1.27        ->   image: nginx:1.27@sha256:0d17...

Init, regular and ephemeral containers, in built-in kinds and in the profile's `podTemplates`. The reference keeps
its spelling and tag (people read the tag; the runtime pulls the digest). A reference pinned already is left as it
is, whatever the lock says; a workload or container opted out (`skip.kharden.dev/pinImages[.<container>]`,
kharden.images.pin_optout) is left and reported. A reference the lock does not name is reported (`image.not-in-lock`), never guessed; a
lock entry that names another repository (a kbld override to a mirror) is reported (`image.lock-elsewhere`), not
followed: moving an image to another registry is not a pin.

The lock reaches the pipeline as the images check's `lock` option (`profile.checks["images"].lock`, a plain map
reference -> digest), so that every edge and `fix -j`'s workers see the same lock.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from kharden.checks.images import Options as ImagesOptions
from kharden.find.podspecs import PodTarget, find_pod_targets
from kharden.images.lock import Lock, add_entry
from kharden.images.pin_optout import Spared
from kharden.images.reference import ReferenceError, normalize, parse
from kharden.model import Change, Finding
from kharden.mutators.base import Editor
from kharden.profile import Profile
from kharden.read import KObject

ID = "pinImages"


def with_lock(profile: Profile, lock: Lock) -> Profile:
    """The profile with this lock as the images check's `lock` option."""
    images = profile.checks.get("images")
    images = images if isinstance(images, ImagesOptions) else ImagesOptions(enabled=False)
    mapping = {**(images.lock or {}), **lock.digests, **lock.elsewhere}  # the file's entries win
    checks = {**profile.checks, "images": dataclasses.replace(images, lock=mapping)}
    return dataclasses.replace(profile, checks=checks)


def lock_of(profile: Profile) -> Lock | None:
    images = profile.checks.get("images")
    mapping = (images.lock if isinstance(images, ImagesOptions) else None) or {}
    if not mapping:
        return None
    lock = Lock()
    for key, pinned in mapping.items():
        add_entry(lock, str(key), str(pinned), "checks.images.lock")
    return lock


Pinner = Callable[[list[PodTarget], list[Change], list[Finding]], None]


def pinner(profile: Profile) -> Pinner | None:
    """A function that pins every container image of some pod targets the lock names and reports the ones it does
    not; None without a lock. The lock is read once, here."""
    lock = lock_of(profile)
    if lock is None:
        return None

    def pin(targets: list[PodTarget], changes: list[Change], findings: list[Finding]) -> None:
        for target in targets:
            spared = Spared(target)  # skip.kharden.dev/pinImages[.<container>] (kharden.images.pin_optout)
            for cpath, c in target.containers():
                image = c.get("image")
                if isinstance(image, str) and not (spared.outs and spared.skips(cpath, image)):
                    _pin(target.obj, cpath + ("image",), image, lock, changes, findings, c.get("name"))
            findings += spared.report(target.obj)

    return pin


def pin_images(objects: list[KObject], profile: Profile, changes: list[Change], findings: list[Finding]) -> None:
    """Pin every container image of the objects the lock names; report the ones it does not."""
    pin = pinner(profile)
    if pin is not None:
        for obj in objects:
            pin(find_pod_targets(obj, profile.pod_templates), changes, findings)


def _pin(obj: KObject, path: tuple[Any, ...], image: str, lock: Lock, changes: list[Change],
         findings: list[Finding], container: Any) -> None:
    try:
        ref = parse(image)
    except ReferenceError:
        return  # the images check reports it
    if ref.digest is not None:
        return
    key = normalize(image)
    digest = lock.digests.get(key)
    if digest is not None:
        Editor(obj, ID, changes).replace(path, f"{image}@{digest}", f"pinned to the digest the lock names for {image}")
        return
    rule, message = ("image.lock-elsewhere", f"the lock maps {image} to another repository "
                     f"({lock.elsewhere[key]}): not pinned") if key in lock.elsewhere else (
                     "image.not-in-lock", f"image {image} is not in the lock: not pinned")
    findings.append(Finding(obj=obj.ref, rule=rule, severity="warning", message=message, path=path,
                            line=obj.line(path), status="unfixed",
                            reason="add it to the lock (`kharden images lock`)", extra={"container": container}))
