"""The profile's `admission:` section: how `kharden serve` answers, beside what it changes (the mutators).

    admission:
      enforcement: warn            # /validate: allow (report nothing), warn (allowed, warnings), deny
      failurePolicy: Fail          # an object kharden cannot read: Fail denies it, Ignore allows it (with a warning)
      protectedNamespaces: [kube-system, kube-node-lease, kube-public]   # never changed, never denied
      skipAnnotation: admission.kharden.dev/skip   # on an object: left as it is (the value says why)
      generatorWarnings: true      # /mutate: name in a warning what `fix` would generate (NetworkPolicies,
                                   # ServiceAccounts); false saves a sixth of an answer's CPU
      cache: 256                   # answers remembered per process for identical objects (kharden.admission.memo)

Defaults follow Kubernetes: a webhook's failurePolicy defaults to Fail; the namespaces are the ones the API server
and node heartbeats live in, which a webhook must never lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.errors import ProfileError

DEFAULTS: dict[str, Any] = {
    "enforcement": "warn",
    "failurePolicy": "Fail",
    "protectedNamespaces": ["kube-system", "kube-node-lease", "kube-public"],
    "skipAnnotation": "admission.kharden.dev/skip",
    "generatorWarnings": True,
    "cache": 256,
}
CHOICES = {"enforcement": ("allow", "warn", "deny"), "failurePolicy": ("Fail", "Ignore")}


@dataclass(frozen=True)
class Admission:
    enforcement: str
    failure_policy: str
    protected_namespaces: frozenset[str]
    skip_annotation: str
    generator_warnings: bool
    cache: int  # objects whose answer each process remembers (kharden.admission.memo); 0: none


def validate(section: Any, label: str) -> None:
    """Refuse an `admission:` section with an unknown key, a wrong type or a value outside its choices."""
    if section is None:
        return
    if not isinstance(section, dict):
        raise ProfileError("admission: must be a mapping", file=label)
    for key, value in section.items():
        if key not in DEFAULTS:
            raise ProfileError(f"admission.{key}: unknown option; known: {', '.join(DEFAULTS)}", file=label)
        if not isinstance(value, type(DEFAULTS[key])):
            raise ProfileError(f"admission.{key}: expected {type(DEFAULTS[key]).__name__}", file=label)
        if key == "cache" and (isinstance(value, bool) or value < 0):
            raise ProfileError("admission.cache: a number of objects, 0 or more", file=label)
        if key in CHOICES and value not in CHOICES[key]:
            raise ProfileError(f"admission.{key}: must be one of {', '.join(CHOICES[key])}", file=label)


def resolve(section: dict[str, Any] | None) -> Admission:
    s = {**DEFAULTS, **(section or {})}
    return Admission(s["enforcement"], s["failurePolicy"], frozenset(s["protectedNamespaces"]), s["skipAnnotation"],
                     s["generatorWarnings"], s["cache"])
