"""secrets: what `kharden fix --move-secrets` and `--secrets-as-files` do (off unless asked; details in
kharden/secrets/move.py and files.py).

Runs after the NetworkPolicy generator, which reads env values (a connection string names the database it
reaches): moving the literal first would cut that egress rule. Its edits are recorded under the id `secrets`; the
Secrets it writes hold key names only, never values, and each comes with a warning to supply them out of band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from kharden.generators.base import Generated
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.options import ProfileOptions
from kharden.read import KObject

ID = "secrets"


@dataclass(frozen=True)
class Options(ProfileOptions):
    move: bool = False
    as_files: bool = False


def generate(objects: list[KObject], opts: Options, editor_for: Callable[[KObject], Editor],
             pod_templates: dict[tuple[str, str], Path] | None = None, **kw: Any) -> Generated:
    out = Generated()
    if opts.move:
        from kharden.secrets.move import move

        out, _ = move(objects, editor_for, pod_templates)
    if opts.as_files:
        from kharden.secrets.files import as_files

        as_files(objects, editor_for, pod_templates)
    return out
