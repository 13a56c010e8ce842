"""Each test image made ready: its layers as directories (for runc's overlay) and as an OCI layout (for skopeo)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from tests.runtime import images, layers, recipes, rootfs
from tests.runtime.images import Image


@dataclass(frozen=True)
class Prepared:
    image: Image
    lowers: list[Path]  # top layer first, as overlayfs takes them
    layout: Path  # an OCI image layout holding the image tagged "1"


def _own_layer_dir(tar: Path) -> Path:
    where = tar.with_suffix(".d")
    if not where.is_dir():
        partial = tar.with_suffix(".d.partial")
        partial.mkdir(parents=True, exist_ok=True)
        subprocess.run(["tar", "--numeric-owner", "-xpf", str(tar), "-C", str(partial)], check=True)
        partial.rename(where)
    return where


def prepare(image: Image) -> Prepared:
    tree, base = rootfs.built(image.recipe)
    own = layers.own_layer_file(rootfs.CACHE, image.entries)
    key = hashlib.sha256(json.dumps([str(base), own.name, image.oci_config()], sort_keys=True).encode())
    layout = rootfs.CACHE / "oci" / f"{image.name}-{key.hexdigest()[:16]}"
    if not (layout / "index.json").is_file():
        layers.write_layout(layout, "1", [base, own], image.oci_config())
    return Prepared(image, [_own_layer_dir(own), tree], layout)


def _built(recipe: rootfs.Recipe) -> tuple[Path, Path]:
    """A rootfs and its layer, gzipped (and its digests taken) in the same thread: the two run side by side."""
    tree, layer = rootfs.built(recipe)
    layers.gzipped(layer)
    return tree, layer


@contextlib.contextmanager
def _cache_lock() -> Iterator[None]:
    """The cache to this process alone while it builds or checks it.

    pytest-xdist runs test processes side by side, and tests.runtime.table may run beside the suite: on a cold
    cache two builders would mmdebstrap into the same directory (each rmtree-ing the other's) and write the same
    `.partial` files. The second one waits here, then finds everything built.
    """
    rootfs.CACHE.mkdir(parents=True, exist_ok=True)
    with (rootfs.CACHE / "build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def all_images() -> list[Prepared]:
    """nginx, redis, memcached and postgres; the two root filesystems are built side by side on a cold cache."""
    with _cache_lock():
        with ThreadPoolExecutor(2) as pool:
            trees = dict(zip(("servers", "postgres"), pool.map(_built, (recipes.SERVERS, recipes.POSTGRES))))
        servers = trees["servers"][0]
        chosen = [images.nginx(servers), images.redis(servers), images.memcached(servers),
                  images.postgres(trees["postgres"][0])]
        return [prepare(image) for image in chosen]
