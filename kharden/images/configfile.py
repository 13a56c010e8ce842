"""`--image-config PATH`: image configs read from files, as `skopeo inspect --config`, `crane config` and
`docker inspect` write them; matched to the images a manifest names by reference or digest.

    skopeo inspect --config docker://nginx:1.27 > configs/nginx:1.27.json
    docker inspect nginx:1.27 redis:7.2 > configs/local.json
    kharden fix --image-config configs/ k8s/

A file is one of:
  - a `docker inspect` list: each entry is matched by its RepoTags and RepoDigests;
  - a config blob (`skopeo inspect --config`, `crane config`): matched by the file's name, the image reference with
    `+` for `/` (`quay.io+prometheus+prometheus:v2.54.json`, `nginx:1.27.json`) or a digest (`sha256:….json`);
  - a mapping of image references to config blobs (`{"nginx:1.27": {...}, ...}`).
A directory is read file by file (*.json, *.yaml, *.yml), in name order; the first match wins.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from kharden.errors import InputError
from kharden.images.reference import ReferenceError, parse

EXTENSIONS = (".json", ".yaml", ".yml")


@dataclass
class ConfigIndex:
    """Configs by normalised reference and by digest, each with the file it came from."""

    by_name: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    by_digest: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    def match(self, image: str) -> tuple[dict[str, Any], str] | None:
        try:
            ref = parse(image)
        except ReferenceError:
            return None
        name = str(ref.with_default_tag()).split("@")[0]
        if ref.digest:  # pulled by digest: a config for that digest, else for the tag written beside it
            return self.by_digest.get(ref.digest) or (self.by_name.get(name) if ref.tag else None)
        return self.by_name.get(name)

    def add(self, key: str, config: dict[str, Any], path: str) -> None:
        if key.startswith("sha256:"):
            self.by_digest.setdefault(key, (config, path))
            return
        try:
            ref = parse(key)
        except ReferenceError:
            return
        if ref.digest:
            self.by_digest.setdefault(ref.digest, (config, path))
        if ref.tag or not ref.digest:
            self.by_name.setdefault(str(ref.with_default_tag()).split("@")[0], (config, path))


def load(path: str) -> ConfigIndex:
    """Every config under `path` (a file or a directory); InputError names a file that is not one."""
    index = ConfigIndex()
    for file in _files(path):
        for key, config in _entries(_read(file), file):
            index.add(key, config, file)
    return index


def _files(path: str) -> Iterator[str]:
    if os.path.isdir(path):
        for name in sorted(os.listdir(path)):
            if name.endswith(EXTENSIONS) and os.path.isfile(os.path.join(path, name)):
                yield os.path.join(path, name)
    elif os.path.isfile(path):
        yield path
    else:
        raise InputError(f"--image-config {path}: no such file or directory")


def _read(file: str) -> Any:
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
        return json.loads(text) if file.endswith(".json") else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise InputError(f"--image-config {file}: not a JSON or YAML image config ({e})") from None


def _entries(data: Any, file: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(data, list):  # docker inspect
        for entry in data:
            if isinstance(entry, dict) and isinstance(entry.get("Config"), dict):
                for key in [*(entry.get("RepoTags") or []), *(entry.get("RepoDigests") or [])]:
                    yield str(key), entry
        return
    if not isinstance(data, dict):
        raise InputError(f"--image-config {file}: expected an image config, a docker inspect list or a mapping")
    if "Digest" in data and "Name" in data and "config" not in data:
        raise InputError(f"--image-config {file}: this is `skopeo inspect` output, which has no USER or VOLUMEs: "
                         "write it with `skopeo inspect --config`")
    if isinstance(data.get("config"), dict) or "rootfs" in data or "architecture" in data:
        stem = os.path.basename(file).rsplit(".", 1)[0]
        yield stem.replace("+", "/"), data
        return
    for key, value in data.items():
        if isinstance(value, dict):
            yield str(key), value
