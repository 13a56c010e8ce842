"""resources: containers get resource requests and limits where they have none.

    - name: web                      ->   - name: web
      resources:                            resources:
        requests:                             requests:
          memory: 1Gi                           memory: 1Gi
                                                cpu: 100m
                                              limits:
                                                memory: 1Gi
                                                cpu: "1"

Options: `requests` and `limits`, each a mapping of resource name (cpu, memory, ephemeral-storage, ...) to the
quantity to add; a name set to null, or left out, is not added. Values already present are never changed, and the
result is always valid, because a limit below its request is rejected by the API server:
  - an added limit is at least the existing request: max(default, request);
  - an added request, where only a limit is set, equals that limit. This is deliberate: Kubernetes already defaults
    a missing request to the limit, so writing it down keeps the pod's scheduling and QoS class exactly as they were
    (a smaller default request would quietly turn a Guaranteed pod into a Burstable one).
Quantities are compared as numbers (kharden.mutators.quantity): 1Gi > 1G, 0.5 == 500m. A resource whose present request or
limit is not a quantity (an unrendered template) is left alone. Ephemeral containers are skipped: the API server
does not allow resources on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.errors import ProfileError
from kharden.find.podspecs import PodTarget
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import containers, mapping
from kharden.mutators.quantity import larger, parse_quantity
from kharden.options import ProfileOptions, dict_field

ID = "resources"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    requests: dict[str, Any] = dict_field({"cpu": "100m", "memory": "128Mi"})  # resource name -> quantity (null: none)
    limits: dict[str, Any] = dict_field({"cpu": "1", "memory": "512Mi"})


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    wanted = {kind: _checked(opts, kind) for kind in ("requests", "limits")}
    names = list(dict.fromkeys([*wanted["requests"], *wanted["limits"]]))
    for path, container in containers(target, edit):
        if "ephemeralContainers" in path:
            continue
        for name in names:
            _fill(edit, path, container, name, wanted)


def _checked(opts: Options, kind: str) -> dict[str, Any]:
    values = {k: v for k, v in mapping(getattr(opts, kind)).items() if v is not None}  # requests or limits
    for name, value in values.items():
        if parse_quantity(value) is None:
            raise ProfileError(f"mutators.resources.{kind}.{name}: {value!r} is not a Kubernetes quantity")
    return values


def _fill(edit: Editor, path: Path, container: dict[str, Any], name: str, wanted: dict[str, dict[str, Any]]) -> None:
    resources = mapping(container.get("resources"))
    request = mapping(resources.get("requests")).get(name)
    limit = mapping(resources.get("limits")).get(name)
    if any(v is not None and parse_quantity(v) is None for v in (request, limit)):
        return  # cannot compare with something that is not a quantity
    if request is None and name in wanted["requests"]:
        request = limit if limit is not None else wanted["requests"][name]
        why = "the request the API server would default to (its limit)" if limit is not None else "a default"
        edit.ensure(path + ("resources", "requests", name), request, f"{name} request set: {why}")
    if limit is None and name in wanted["limits"]:
        limit = wanted["limits"][name] if request is None else larger(wanted["limits"][name], request)
        why = "raised to the request it may not be below" if limit is request else "a default"
        edit.ensure(path + ("resources", "limits", name), limit, f"{name} limit set: {why}")
