"""The one call from admission into kharden's pipeline: one object in, what `kharden fix` would do to it out.

Every admission answer goes through `harden_object`, and it through `pipeline.run(Request)`, the one pipeline every
entry point calls (the mode `fix`, without splicing: there is no text to splice, the answer is a JSON patch).

The object arrives as JSON the API server decoded already, so it is wrapped as a one-document Source with no text
and no node tree (no positions to keep: nothing is spliced, the answer is a JSON patch). The mutators run exactly
as in `fix`; the generators run too, but only to say what they would create: admission has no side effects
(`sideEffects: None`), so their objects and their edits become warnings, never part of the patch.

Two of fix's mutators do not run at admission, because what they decide is not in the one object:
- `automountServiceAccountToken`: whether a workload's token is used is learned from the RoleBindings beside it
  (kharden.know.api_use); the API server sends the pod alone, so admission cannot tell and never cuts a token
  (a used token cut is a broken controller: fix it in git, where the bindings are seen);
- `apiVersions`: the API server has already decoded the object at the version it serves; a patch cannot move it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kharden.model import Change, Finding
from kharden.profile import Profile
from kharden.read.source import Document, Source

PATH = "<admission>"


@dataclass(frozen=True)
class Hardened:
    patch: list[dict[str, Any]]  # RFC 6902 operations, in order: applied to the object they give `fix`'s output
    changes: list[Change]
    findings: list[Finding]  # unfixed violations, opt-outs and notes, as `fix` reports them
    generated: list[str] = field(default_factory=list)  # what the generators would have made or edited


def harden_object(obj: dict[str, Any], profile: Profile, *, generators: bool = True) -> Hardened:
    """What `kharden fix --no-generate` does to `obj` (a deep copy is edited; `obj` stays as it was), and, with
    `generators`, what the profile's generators would add. Raises KhardenError for an object `fix` would refuse."""
    import copy

    from kharden.generators import GENERATORS
    from kharden.pipeline import Request, run

    profile = _at_admission(profile)
    data = copy.deepcopy(obj)
    source = Source(path=PATH, text="", docs=[Document(PATH, 0, None, data, repeated_keys=False)])
    generating = generators and any(o.enabled for o in profile.generators.values())
    result = run(Request([source], profile, generate=generating, splice=False))  # no text: the answer is a patch
    mine = [c for c in result.changes if c.mutator not in GENERATORS]
    would = [f"{o.get('kind')}/{(o.get('metadata') or {}).get('name')}" for o in result.generated]
    edits = [c.mutator for c in result.changes if c.mutator in GENERATORS]
    would += [f"{edits.count(g)} edit(s) by generator {g}" for g in dict.fromkeys(edits)]
    return Hardened([c.patch_op() for c in mine], mine, result.findings, would)


NOT_AT_ADMISSION = ("automountServiceAccountToken", "apiVersions")


def _at_admission(profile: Profile) -> Profile:
    """The profile without the mutators whose decision needs more than the one object (see the module's doc)."""
    import dataclasses

    off = {m: dataclasses.replace(profile.mutators[m], enabled=False) for m in NOT_AT_ADMISSION if m in profile.mutators}
    return dataclasses.replace(profile, mutators={**profile.mutators, **off}) if off else profile
