"""automountServiceAccountToken: pods do not get an API token mounted unless they use it.

    spec:                        ->   spec:
      containers: [...]                 automountServiceAccountToken: false
                                        containers: [...]

Most workloads never talk to the Kubernetes API; a mounted token is a credential for whoever gets into the
container. But a token in use is never cut: a pod keeps it (nothing is added, and the report says why,
`kharden.token-kept`) when `kharden.know.api_use` finds its ServiceAccount bound by a RoleBinding or
ClusterRoleBinding of the input (by name or through the `system:serviceaccounts[:NS]` groups), its
`kharden.dev/access` annotation, the audit log showing it call the API, or a projected token volume of its own.

An explicit `true` is the user saying the pod needs it and is kept unless `enforce: true` (and nothing above shows
the token in use: `strict` does not cut a used token either). Pod-level only, so an opt-out names the workload (a per-container opt-out means nothing here).
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED
from kharden.options import ProfileOptions

ID = "automountServiceAccountToken"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    field = target.spec_path + ("automountServiceAccountToken",)
    if edit.know is not None and edit.know.api_use.of(target):
        return  # the workload uses the API: kharden.know says why, and the pipeline reports it
    if target.spec.get("automountServiceAccountToken") is True:
        if opts.enforce:
            edit.replace(field, False, f"service account token not mounted: {ENFORCED}")
        return
    edit.ensure(field, False, "no service account token: nothing shows the pod using the Kubernetes API")
