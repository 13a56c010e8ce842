"""procMount: with `enforce: true`, a container's non-default `procMount` becomes `Default`.

    securityContext:             ->   securityContext:
      procMount: Unmasked                 procMount: Default

Absent means Default, so without `enforce` nothing changes and the checker reports the violation (PSS baseline).
Windows pods are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, container_sc, containers
from kharden.options import ProfileOptions

ID = "procMount"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if not opts.enforce or target.windows:
        return
    for path, container in containers(target, edit):
        value = container_sc(container).get("procMount")
        if value is not None and value != "Default":
            edit.replace(path + (SC, "procMount"), "Default", f"unmasked /proc forbidden: {ENFORCED}")
