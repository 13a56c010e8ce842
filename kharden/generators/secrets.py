"""secrets: what `kharden fix --move-secrets` and `--secrets-as-files` do (off unless asked; details in
kharden/secrets/move.py and files.py).

Runs after the NetworkPolicy generator, which reads env values (a connection string names the database it
reaches): moving the literal first would cut that egress rule. Its edits are recorded under the id `secrets`; the
Secrets it writes hold key names only, never values, and each comes with a warning to supply them out of band.
"""

from __future__ import annotations

from typing import Any, Callable

from kharden.generators.base import Generated
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.read import KObject

ID = "secrets"
DEFAULTS: dict[str, Any] = {"move": False, "asFiles": False}


def generate(objects: list[KObject], opts: dict[str, Any], editor_for: Callable[[KObject], Editor],
             pod_templates: dict[tuple[str, str], Path] | None = None, **kw: Any) -> Generated:
    out = Generated()
    if opts.get("move"):
        from kharden.secrets.move import move

        out, _ = move(objects, editor_for, pod_templates)
    if opts.get("asFiles"):
        from kharden.secrets.files import as_files

        as_files(objects, editor_for, pod_templates)
    return out
