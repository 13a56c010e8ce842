"""The edge's part of the `know` stage: read what image configs say, before the pure pipeline runs.

    knowledge = learn(images, config_path="configs/", resolve=True, platform="linux/amd64")

For each distinct image string: a config from `--image-config`, else (with `--resolve-images`) the config from
its registry, read concurrently, once per digest. Where the config leaves a question — a USER that is a name, or
VOLUMEs — the image's layers are read too (/etc/passwd, what each VOLUME holds); those facts are cached on disk
by manifest digest, so a second run reads no layer. A registry that cannot be reached is recorded per image: the
pipeline goes on with the catalog or the defaults, and the report says so. This module does I/O; the pipeline
only receives the Knowledge it returns.
"""

from __future__ import annotations

import json
import os
from typing import Iterable

from kharden.errors import KhardenError
from kharden.images import catalog, configfile, layers
from kharden.images.facts import ImageFacts, config_section, from_config, merged
from kharden.images.registry import Client, Resolved
from kharden.know.images import Knowledge

LIMITS = layers.Limits()  # what reading one image's layers may cost (entries, bytes, time)


def learn(images: Iterable[str], *, config_path: str | None = None, resolve: bool = False,
          platform: str = "linux/amd64", insecure: Iterable[str] = (), cache_dir: str | None = None) -> Knowledge:
    wanted = sorted({i for i in images if isinstance(i, str) and i})
    facts: dict[str, ImageFacts] = {}
    errors: dict[str, str] = {}
    if config_path:
        index = configfile.load(config_path)
        for image in wanted:
            found = index.match(image)
            if found is not None:
                facts[image] = merged(from_config(found[0], "config file", found[1]), _catalog(image, found[0]))
    rest = [i for i in wanted if i not in facts]
    if resolve and rest:
        client = Client(platform=platform, insecure=insecure, cache_dir=cache_dir)
        for image, answer in client.resolve_all(rest).items():
            if isinstance(answer, KhardenError):
                errors[image] = f"its image config could not be read from the registry: {answer}"
                continue
            try:
                facts[image] = _from_registry(client, answer, image)
            except KhardenError as e:  # the config alone still speaks: VOLUMEs unknown, a named USER unresolved
                errors[image] = f"its image layers could not be read: {e}"
                facts[image] = _from_registry(client, answer, image, read_layers=False)
    return Knowledge(facts, errors)


def _from_registry(client: Client, found: Resolved, image: str, read_layers: bool = True) -> ImageFacts:
    config = config_section(found.config)
    volumes = sorted(config.get("Volumes") or {})
    user = str(config.get("User") or "").split(":")[0]
    need_layers = bool(volumes) or (user != "" and not user.isdigit() and user != "root")
    scanned = _layer_facts(client, found, volumes) if need_layers and read_layers else None
    evidence = f"{found.reference.familiar_name}@{found.digest} ({found.platform})"
    return merged(from_config(found.config, "registry", evidence, scanned), _catalog(image, found.config))


def _catalog(image: str, document: dict[str, object]) -> ImageFacts | None:
    """The catalog entry for the image's name, else the one its config shows it to be (a mirrored official image)."""
    return catalog.lookup(image) or catalog.recognise(config_section(document), image)


def _layer_facts(client: Client, found: Resolved, volumes: list[str]) -> layers.LayerFacts:
    cached = os.path.join(client.cache.directory, "facts", found.manifest_digest.replace(":", "-") + ".json")
    try:
        with open(cached, encoding="utf-8") as f:
            data = json.load(f)
        if sorted(data.get("contents", {})) == volumes:
            return layers.LayerFacts.from_json(data)
    except (OSError, ValueError, AttributeError):
        pass
    scanner = layers.Scanner(volumes, found.reference.familiar(), LIMITS)
    if sum(int(d.get("size") or 0) for d in found.layers) > LIMITS.compressed:
        raise layers.LayerLimit(f"the layers of {found.reference.familiar()} are larger than "
                                f"{LIMITS.compressed >> 30} GiB: not read")
    for descriptor in found.layers:
        client.stream_blob(found.reference, descriptor["digest"], scanner.apply)
    scanned = scanner.facts()
    try:
        os.makedirs(os.path.dirname(cached), exist_ok=True)
        with open(cached + ".tmp", "w", encoding="utf-8") as f:
            json.dump(scanned.as_json(), f)
        os.replace(cached + ".tmp", cached)
    except OSError:
        pass
    return scanned
