"""apiVersions: manifests of a deprecated or removed API version move to its replacement, where that is mechanical.

    apiVersion: batch/v1beta1     ->   apiVersion: batch/v1
    kind: CronJob                      kind: CronJob

The table of versions (`kharden/apiversions/table.yaml`, each row from the Kubernetes Deprecated API Migration
Guide) says what is deprecated or removed when; the target release is `kubeVersion` ("" = the newest the table
knows; `--kube-version 1.NN` on the command line). Moved at the target: extensions/v1beta1 and apps/v1beta1|v1beta2
workloads to apps/v1 (spec.selector from the template's labels when absent), Ingress to networking.k8s.io/v1
(backends restructured, pathType set), autoscaling/v2beta1|v2beta2 to v2 (v2beta1 metric targets restructured),
batch/v1beta1 CronJob, policy/v1beta1 PodDisruptionBudget, rbac v1beta1 and the other pure renames. The moved
object is then hardened like any other in the same run (this mutator runs first). What is not mechanical
(PodSecurityPolicy, webhooks, CRDs, ...) is reported by `kharden/checks/apiversions.py` (`api.removed`,
`api.deprecated`), with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.apiversions import migrate
from kharden.apiversions.table import lookup, show, target_of
from kharden.mutators.base import Editor
from kharden.options import ProfileOptions
from kharden.read import KObject

ID = "apiVersions"
SCOPE = "object"


@dataclass(frozen=True)
class Options(ProfileOptions):
    kube_version: str = ""  # the Kubernetes release to target; "" = the newest the table knows


def apply(obj: KObject, opts: Options, edit: Editor) -> None:
    row = lookup(obj.data.get("apiVersion"), obj.data.get("kind"))
    if row is None:
        return
    target = target_of(opts.kube_version)
    if not row.migrates_at(target) or migrate.blocker(row, obj.data) is not None:
        return
    when = row.removed if row.status(target) == "removed" else row.deprecated
    assert when is not None
    why = f"{row.old} {row.kind} is {row.status(target)} in Kubernetes {show(when)} (target {show(target)}): " \
          f"moved to {row.to} ({row.source})"
    migrate.apply(row, obj.data, edit, why)
