"""`kharden images lock PATHS -o LOCK`: resolve every image reference of the manifests to a digest.

The references are those the pin fix reads (every container of built-in kinds and the profile's `podTemplates`),
minus those pinned already. Each distinct one is resolved once, concurrently, through the registry client
(`kharden.images.registry.Client`: anonymous or `~/.docker/config.json` credentials, bearer tokens, an on-disk cache
by digest). A multi-arch image is pinned to its index digest by default, so every platform keeps pulling its own
image; `platform_digest=True` pins the one platform's manifest instead. Network only here, only when asked.
"""

from __future__ import annotations

from typing import Any

from kharden.errors import KhardenError
from kharden.files.discover import discover
from kharden.find.podspecs import find_pod_targets
from kharden.images.reference import ReferenceError, parse
from kharden.model import Path
from kharden.read import KObject, Source
from kharden.read.source import read_source
from kharden.read.validate import split_objects


def readable_objects(paths: list[str], templates: dict[tuple[str, str], Path] | None, exclude: tuple[str, ...] = ()
                     ) -> tuple[list[KObject], list[KhardenError]]:
    """The well-formed objects of every readable file of `paths` (walked as `fix` walks them, kharden.files), and
    an error for each file or object that is not (as `kharden check` reads its input: one bad file does not stop
    the others)."""
    sources: list[Source] = []
    errors: list[KhardenError] = []
    for p in discover(paths, exclude).paths:
        try:
            sources.append(read_source(p))
        except KhardenError as e:
            errors.append(e)
    objects, problems = objects_of(sources, templates)
    return objects, errors + problems


def objects_of(sources: list[Source], templates: dict[tuple[str, str], Path] | None
               ) -> tuple[list[KObject], list[KhardenError]]:
    """The well-formed objects of the sources, and an error for each object that is not."""
    objects: list[KObject] = []
    errors: list[KhardenError] = []
    for source in sources:
        good, problems = split_objects(source, pod_templates=templates)
        objects += good
        errors += problems
    return objects, errors


def references(objects: list[KObject], templates: dict[tuple[str, str], Path] | None) -> list[str]:
    """Every distinct image reference not pinned by digest, in order of first appearance."""
    seen: dict[str, None] = {}
    for obj in objects:
        for target in find_pod_targets(obj, templates):
            for _, c in target.containers():
                image = c.get("image")
                if isinstance(image, str) and image not in seen:
                    try:
                        if parse(image).digest is None:
                            seen[image] = None
                    except ReferenceError:
                        continue
    return list(seen)


def resolve(images: list[str], client: Any, platform_digest: bool = False
            ) -> tuple[dict[str, str], dict[str, KhardenError]]:
    """({image: digest}, {image: error}) for the images, through `client.resolve_all`."""
    pins: dict[str, str] = {}
    errors: dict[str, KhardenError] = {}
    for image, found in client.resolve_all(images).items():
        if isinstance(found, KhardenError):
            errors[image] = found
        else:
            pins[image] = found.manifest_digest if platform_digest else found.digest
    return pins, errors
