"""automountServiceAccountToken: pods do not get an API token mounted unless they say they need one.

    spec:                        ->   spec:
      containers: [...]                 automountServiceAccountToken: false
                                        containers: [...]

Most workloads never talk to the Kubernetes API; a mounted token is a credential for whoever gets into the
container. An explicit `true` is the user saying the pod needs it and is kept unless `enforce: true`. Pod-level
only, so an opt-out names the workload (a per-container opt-out means nothing here).
"""

from __future__ import annotations

from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED

ID = "automountServiceAccountToken"
SCOPE = "pod"
DEFAULTS: dict[str, Any] = {"enforce": False}


def apply(target: PodTarget, opts: dict[str, Any], edit: Editor) -> None:
    field = target.spec_path + ("automountServiceAccountToken",)
    if target.spec.get("automountServiceAccountToken") is True:
        if opts["enforce"]:
            edit.replace(field, False, f"service account token not mounted: {ENFORCED}")
        return
    edit.ensure(field, False, "no service account token unless the pod says it needs one")
