"""hostNamespaces: with `enforce: true`, a pod that shares the node's network, PID or IPC namespace stops sharing it.

    spec:                        ->   spec:
      hostNetwork: true                 hostNetwork: false

Absent is already safe, so without `enforce` this mutator changes nothing: the checker reports the violation
(PSS baseline) and the profile decides whether kharden may rewrite it. A kubeaudit `allow-namespace-host-network`
(-PID, -IPC) override keeps that one field.
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED
from kharden.options import ProfileOptions

ID = "hostNamespaces"
SCOPE = "pod"

FIELDS = ("hostNetwork", "hostPID", "hostIPC")


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if not opts.enforce:
        return
    spec = target.spec
    for name in FIELDS:
        field = target.spec_path + (name,)
        if spec.get(name) is True and not edit.skipped(field):
            edit.replace(field, False, f"sharing the node's namespace forbidden: {ENFORCED}")
