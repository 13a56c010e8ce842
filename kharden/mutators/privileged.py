"""privileged: every container says `privileged: false`.

    securityContext: {}          ->   securityContext:
                                        privileged: false

Pod Security Standards (baseline) forbid only `true`; an explicit `false` is harmless and states intent (kubeaudit
adds it too). An explicit `privileged: true` is rewritten only with `enforce: true`; otherwise the checker reports
it. Windows pods are skipped: the API server rejects `privileged` on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, container_sc, containers
from kharden.options import ProfileOptions

ID = "privileged"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    for path, container in containers(target, edit):
        field = path + (SC, "privileged")
        if container_sc(container).get("privileged") is True:
            if opts.enforce:
                edit.replace(field, False, f"privileged container replaced: {ENFORCED}")
        else:
            edit.ensure(field, False, "containers must not run privileged (PSS baseline)")
