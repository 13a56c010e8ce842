"""kubeletConfiguration: a `KubeletConfiguration` (kubelet.config.k8s.io) with a field the CIS Kubernetes
Benchmark forbids written explicitly is rewritten, only with the profile's `enforce: true`.

    kind: KubeletConfiguration       ->   kind: KubeletConfiguration
    authentication:                       authentication:
      anonymous: {enabled: true}            anonymous: {enabled: false}
    readOnlyPort: 10255                   readOnlyPort: 0

The file's defaults already pass (anonymous off, Webhook authorization, read-only port 0, iptables chains on), so
nothing is added; the other items (client CA, TLS files, ciphers, authorization mode) are reported with their
CIS item numbers.

Options:
  enforce  rewrite written insecure values (without it this mutator changes nothing and the check reports them)
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.cluster import cis
from kharden.cluster.plan import KUBELET_CONFIG, field_value
from kharden.mutators.base import Editor
from kharden.options import ProfileOptions
from kharden.read import KObject

ID = "kubeletConfiguration"
SCOPE = "object"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: KObject, opts: Options, edit: Editor) -> None:
    if (target.ref.api_version.rpartition("/")[0], target.ref.kind) != KUBELET_CONFIG or not opts.enforce:
        return
    for item in cis.for_component("kubelet", "field"):
        present, value = field_value(target.data, item.field or "")
        if not present or item.fix != "enforce" or item.passes(value):
            continue
        edit.replace(tuple((item.field or "").split(".")), item.value,
                     f"CIS {item.cis}: {item.expectation()} (enforced by the profile)")
