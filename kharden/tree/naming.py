"""How the generated objects name the input files: relative to where they are written, never as the arguments
were spelled.

The pipeline names a file as it was given (`/abs/dir/shop.yaml`, `./shop.yaml`, `shop.yaml`): messages on the
terminal should. But the generated objects' reasons (`kharden.dev/why`, `kharden.dev/rule-sources`, ...) are
written into the repository, so `fix -i /abs/dir` and then `cd /abs/dir && fix -i .` would rewrite
kharden-generated.yaml though nothing changed. Before the generated objects are rendered, the edge renames each
file in those annotations: relative to the generated file's directory with `-i`/`-o` (under `-o`, the file's
hardened copy there), relative to the working directory when they go to stdout. Helm, KRM and kustomize inputs
have names of their own (no directory argument) and are left as they are.

    before   kharden.dev/why: egress[0] to StatefulSet/redis: args[1] ... names redis-0.redis:6379 (/abs/dir/shop.yaml)
    after    kharden.dev/why: egress[0] to StatefulSet/redis: args[1] ... names redis-0.redis:6379 (shop.yaml)
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Mapping

ANNOTATION_PREFIX = "kharden.dev/"  # kharden's own annotations carry its reasons; no other value is touched


def relative_names(paths: Iterable[str], base: str, targets: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each path (or its `targets` entry: the copy `-o` writes) relative to the directory `base`, '/'-separated;
    only the paths whose name changes. stdin ("-") has no file to name."""
    root = os.path.abspath(base)
    names = {}
    for path in paths:
        if path == "-":
            continue
        try:
            name = os.path.relpath(os.path.abspath((targets or {}).get(path, path)), root)
        except ValueError:  # another drive (Windows): no relative path; the absolute one does not depend on spelling
            name = os.path.abspath(path)
        name = name.replace(os.sep, "/")
        if name != path:
            names[path] = name
    return names


def rename(objects: Iterable[dict[str, Any]], names: Mapping[str, str]) -> None:
    """Replace each path of `names` by its name in the string values of the objects' kharden.dev/ annotations.

    A path counts only as a whole word (not inside a longer path or word), so `a.yaml` leaves `data.yaml` alone."""
    if not names:
        return
    words = "|".join(re.escape(p) for p in sorted(names, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w./-])(?:{words})(?![\w/-]|\.\w)")
    for obj in objects:
        meta = obj.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        if not isinstance(annotations, dict):
            continue
        for key, value in annotations.items():
            if isinstance(key, str) and key.startswith(ANNOTATION_PREFIX) and isinstance(value, str):
                annotations[key] = pattern.sub(lambda m: names[m.group(0)], value)
