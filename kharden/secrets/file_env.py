"""Which images read a credential from a file named by `<VAR>_FILE` (table: `file_env.yaml`, with sources), and why
a Secret environment variable cannot become such a file. The knowledge `check` reports with and `--secrets-as-files`
acts on (kharden.secrets.files); it edits nothing.
"""

from __future__ import annotations

import fnmatch
import functools
from importlib import resources
from typing import Any

import yaml

from kharden.images.reference import ReferenceError, parse


@functools.lru_cache(maxsize=1)
def table() -> tuple[dict[str, Any], ...]:
    text = resources.files("kharden.secrets").joinpath("file_env.yaml").read_text(encoding="utf-8")
    return tuple(yaml.load(text, Loader=yaml.CSafeLoader))


def file_variable(image: Any, variable: str) -> str | None:
    """`POSTGRES_PASSWORD_FILE` when the image reads `POSTGRES_PASSWORD` from a file named by it, else None."""
    try:
        name = parse(image).familiar_name if isinstance(image, str) else None
    except ReferenceError:
        return None
    for entry in table():
        if name in entry["images"] and any(fnmatch.fnmatchcase(variable, v) for v in entry["variables"]):
            suffix: str = entry["suffix"]  # a string in file_env.yaml, e.g. "_FILE"
            return variable + suffix
    return None


def blocker(c: dict[str, Any], e: dict[str, Any], ref: dict[str, Any]) -> str:
    """Why this Secret env var cannot become a file ("" when it can)."""
    name = str(e.get("name"))
    target = file_variable(c.get("image"), name)
    if target is None:
        return f"image {c.get('image')} is not known to read {name} from a file (<VAR>_FILE)"
    if ref.get("optional"):
        return "the secretKeyRef is optional: a mounted file would stop the pod when the Secret is missing"
    if not isinstance(ref.get("name"), str) or not isinstance(ref.get("key"), str):
        return "the secretKeyRef names no Secret or key"
    names = {x.get("name") for x in c.get("env") or [] if isinstance(x, dict)}
    if target in names:
        return f"{target} is set already"
    return ""
