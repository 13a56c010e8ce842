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

import hashlib
from typing import Any, Callable

from kharden.find.podspecs import find_pod_targets
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.read import KObject
from kharden.secrets.file_env import blocker, file_variable

MOUNT_ROOT = "/run/secrets"


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
