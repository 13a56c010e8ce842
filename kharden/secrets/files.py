"""`kharden fix --secrets-as-files`: a Secret that reaches a container as an environment variable becomes a mounted
file, where the image's entrypoint reads `<VAR>_FILE` (table: `file_env.yaml`, with sources).

    env:                                          env:
    - name: POSTGRES_PASSWORD                     - name: POSTGRES_PASSWORD_FILE
      valueFrom:                          ->        value: /run/secrets/db/password
        secretKeyRef: {name: db, key: password}   volumeMounts:
                                                  - {name: kharden-secret-1a2b3c4d, mountPath: /run/secrets/db,
                                                     readOnly: true}
                                                  volumes:
                                                  - {name: kharden-secret-1a2b3c4d, secret: {secretName: db}}

Only where it cannot break the app: the image is one the table lists (by its familiar name), the variable is one
its entrypoint reads from a file, the `<VAR>_FILE` variable is not set already, and the reference is not
`optional` (a missing optional Secret leaves the variable unset; a missing mounted Secret stops the pod). Everything
else stays an environment variable and is reported with the reason.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
from importlib import resources
from typing import Any, Callable

import yaml

from kharden.find.podspecs import find_pod_targets
from kharden.images.reference import ReferenceError, parse
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.read import KObject

MOUNT_ROOT = "/run/secrets"


@functools.lru_cache(maxsize=1)
def table() -> tuple[dict[str, Any], ...]:
    text = resources.files("kharden.secrets").joinpath("file_env.yaml").read_text(encoding="utf-8")
    return tuple(yaml.safe_load(text))


def file_variable(image: Any, variable: str) -> str | None:
    """`POSTGRES_PASSWORD_FILE` when the image reads `POSTGRES_PASSWORD` from a file named by it, else None."""
    try:
        name = parse(image).familiar_name if isinstance(image, str) else None
    except ReferenceError:
        return None
    for entry in table():
        if name in entry["images"] and any(fnmatch.fnmatchcase(variable, v) for v in entry["variables"]):
            return variable + entry["suffix"]
    return None


def as_files(objects: list[KObject], editor_for: Callable[[KObject], Editor],
             templates: dict[tuple[str, str], Path] | None) -> None:
    """Rewrite what can be rewritten; what is left is reported by the check (`secret.env-var`, with `blocker`)."""
    for obj in objects:
        for target in find_pod_targets(obj, templates):
            for cpath, c in target.containers():
                env = c.get("env")
                for j, e in enumerate(env if isinstance(env, list) else []):
                    ref = (e.get("valueFrom") or {}).get("secretKeyRef") if isinstance(e, dict) else None
                    if isinstance(ref, dict) and not blocker(c, e, ref):
                        _rewrite(editor_for(obj), target.spec_path, cpath, j, e, ref, c)


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


def volume_name(secret: str) -> str:
    return "kharden-secret-" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def _rewrite(edit: Editor, spec_path: Path, cpath: Path, j: int, e: dict[str, Any], ref: dict[str, Any],
             c: dict[str, Any]) -> None:
    secret, key, name = ref["name"], ref["key"], str(e["name"])
    directory = f"{MOUNT_ROOT}/{secret}"
    reason = f"Secret {secret} reaches {name} as a file, not an environment variable (CKV_K8S_35)"
    entry = cpath + ("env", j)
    edit.replace(entry + ("name",), file_variable(c.get("image"), name), reason)
    edit.remove(entry + ("valueFrom",), reason)
    edit.ensure(entry + ("value",), f"{directory}/{key}", reason)
    volume = volume_name(secret)
    volumes = edit.get(spec_path + ("volumes",))
    if not any(isinstance(v, dict) and v.get("name") == volume for v in volumes or []):
        edit.append(spec_path + ("volumes",), {"name": volume, "secret": {"secretName": secret}}, reason)
    mounts = edit.get(cpath + ("volumeMounts",))
    if not any(isinstance(m, dict) and m.get("mountPath") == directory for m in mounts or []):
        edit.append(cpath + ("volumeMounts",), {"name": volume, "mountPath": directory, "readOnly": True}, reason)
