"""Image lock files: which digest each image reference is pinned to.

Read (`read_lock(text)`), in any of three shapes, one or several YAML documents:

    nginx:1.27: sha256:0d17...                      # kharden's own: a plain map, reference -> digest
    redis:7: docker.io/library/redis@sha256:5a9...  #   (a value may be a whole pinned reference)

    apiVersion: imgpkg.carvel.dev/v1alpha1          # kbld --imgpkg-lock-output (imgpkg's ImagesLock): the
    kind: ImagesLock                                #   reference kbld resolved is the annotation kbld.carvel.dev/id
    images:
    - image: index.docker.io/library/nginx@sha256:0d17...
      annotations: {kbld.carvel.dev/id: "nginx:1.27"}

    apiVersion: kbld.k14s.io/v1alpha1               # kbld --lock-output (a Config of overrides)
    kind: Config
    overrides:
    - {image: "nginx:1.27", newImage: "index.docker.io/library/nginx@sha256:0d17...", preresolved: true}

(shapes as carvel.dev/kbld/docs/latest/resolving and .../config document them). Keys are normalised as Docker does
(`nginx:1.27` = `docker.io/library/nginx:1.27`), so a lock and a manifest may spell a reference differently. An
entry whose pinned reference names another repository than its key (a kbld override to a mirror) is kept apart:
pinning never moves an image to another repository.

Written (`dump_lock`) as the plain map, sorted, keys as the manifests spell them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from kharden.errors import InputError
from kharden.images.reference import ReferenceError, normalize, parse

KBLD_ID = "kbld.carvel.dev/id"


@dataclass(frozen=True)
class Lock:
    """Normalised reference -> digest; `elsewhere`: normalised reference -> the other repository a lock names."""

    digests: dict[str, str] = field(default_factory=dict)
    elsewhere: dict[str, str] = field(default_factory=dict)

    def digest_for(self, image: str) -> str | None:
        return self.digests.get(_key(image))


def _key(image: str) -> str:
    try:
        return normalize(image)
    except ReferenceError:
        return image


def read_lock(text: str, label: str = "lock file") -> Lock:
    """The lock in `text`; an InputError naming `label` when it is none of the three shapes."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        raise InputError(f"{label}: not YAML: {e}", file=label) from None
    pairs: list[tuple[str, str]] = []
    for doc in docs:
        pairs += _pairs(doc, label)
    lock = Lock()
    for key, pinned in pairs:
        add_entry(lock, key, pinned, label)
    return lock


def _pairs(doc: Any, label: str) -> list[tuple[str, str]]:
    if not isinstance(doc, dict):
        raise InputError(f"{label}: a lock is a mapping of image -> digest, a kbld ImagesLock or a kbld Config",
                         file=label)
    kind = doc.get("kind")
    if kind == "ImagesLock" and "apiVersion" in doc:
        return [(str((i.get("annotations") or {}).get(KBLD_ID) or i.get("image")), str(i.get("image")))
                for i in doc.get("images") or [] if isinstance(i, dict) and i.get("image")]
    if kind == "Config" and str(doc.get("apiVersion", "")).startswith("kbld."):
        return [(str(o["image"]), str(o["newImage"])) for o in doc.get("overrides") or []
                if isinstance(o, dict) and o.get("image") and o.get("newImage")]
    return [(str(k), str(v)) for k, v in doc.items()]


def add_entry(lock: Lock, key: str, pinned: str, label: str) -> None:
    """One entry: the digest under the normalised key, or the other repository it names in `elsewhere`."""
    digest = pinned.rsplit("@", 1)[1] if "@" in pinned else pinned
    try:
        ref = parse(f"{parse(key).name}@{digest}")  # validates the digest
        target = parse(pinned) if "@" in pinned else ref
    except ReferenceError as e:
        raise InputError(f"{label}: {key}: {e.message}", file=label) from None
    if target.name != ref.name:
        lock.elsewhere[_key(key)] = str(target)
        return
    lock.digests[_key(key)] = str(ref.digest)


def dump_lock(pins: dict[str, str]) -> str:
    """The plain-map lock of {reference as written: digest}, sorted, with a header saying what it is."""
    head = "# kharden image lock: image reference -> digest (kharden images lock; kharden fix --pin-images)\n"
    return head + (yaml.safe_dump(dict(sorted(pins.items())), default_flow_style=False, width=1 << 16)
                   if pins else "{}\n")
