"""What kharden knows about each workload beyond its own fields, learned once from the whole input.

`api_use`: which workloads use the Kubernetes API, and why (so their ServiceAccount token is kept). The mutator
`automountServiceAccountToken`, the `rbac` generator and the `networkPolicies` generator all ask this one module.
`protected`: the cluster's own namespaces, where kharden reports what it would change instead of changing it.
`images`: what each container's image needs (user, writable paths, VOLUMEs, ports), computed per container in the
mutate stage (`know_images`) from the edge's image configs, the catalog, or assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kharden.know.api_use import ApiUse, Binding
from kharden.know.protected import DEFAULT as DEFAULT_PROTECTED
from kharden.read import KObject

if TYPE_CHECKING:
    from kharden.profile import Profile


@dataclass
class Knowledge:
    """Everything learned about the input before any mutator runs; mutators read it through `Editor.know`."""

    api_use: ApiUse = field(default_factory=ApiUse)
    protected: frozenset[str] = frozenset(DEFAULT_PROTECTED)


def learn(objects: list[KObject], profile: Profile, *, audit_log: str | None = None,
          bindings: tuple[Binding, ...] | None = None) -> Knowledge:
    """What the pipeline knows about `objects` (the whole input) under `profile`; or about a part of the input, given
    the `bindings` of all of it (kharden.pipeline.finish)."""
    from kharden.generators.rbac.auditlog import read_audit_log
    from kharden.know import api_use

    rbac_opts = profile.generators.get("rbac")  # kharden.generators.rbac.generator.Options (that module imports this)
    requests = read_audit_log(audit_log) if audit_log else None
    use = api_use.learn(objects, profile.pod_templates,
                        annotation=str(getattr(rbac_opts, "annotation", None) or api_use.ACCESS), requests=requests,
                        audit_log=audit_log or "the audit log", bindings=bindings)
    return Knowledge(use, frozenset(profile.protected_namespaces))
