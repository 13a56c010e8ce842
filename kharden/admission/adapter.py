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

import base64
import copy
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from kharden.model import Change, Finding, cached_property
from kharden.profile import Profile
from kharden.read.source import Document, Source

PATH = "<admission>"


@dataclass(frozen=True)
class Hardened:
    patch: list[dict[str, Any]]  # RFC 6902 operations, in order: applied to the object they give `fix`'s output
    changes: list[Change]
    findings: list[Finding]  # unfixed violations, opt-outs and notes, as `fix` reports them
    generated: list[str] = field(default_factory=list)  # what the generators would have made or edited

    @cached_property
    def encoded_patch(self) -> str:
        """The patch as an AdmissionReview carries it (compact JSON, base64): made once, also for an answer
        remembered (kharden.admission.memo) and sent again."""
        return base64.b64encode(json.dumps(self.patch, separators=(",", ":")).encode()).decode()


def harden_object(obj: dict[str, Any], profile: Profile, *, generators: bool = True, owned: bool = False) -> Hardened:
    """What `kharden fix --no-generate` does to `obj`, and, with `generators`, what the profile's generators would
    add. `obj` is edited only when `owned` (a request parsed for this one answer: no copy is needed), else a deep
    copy is. Raises KhardenError for an object `fix` would refuse."""
    from kharden.generators import GENERATORS
    from kharden.pipeline import Request, run

    profile = at_admission(profile)
    data = obj if owned else copy.deepcopy(obj)
    source = Source(path=PATH, text="", docs=[Document(PATH, 0, None, data, repeated_keys=False)])
    generating = generators and any(o.enabled for o in profile.generators.values())
    result = run(Request([source], profile, generate=generating, splice=False))  # no text: the answer is a patch
    mine = [c for c in result.changes if c.mutator not in GENERATORS]
    would = [f"{o.get('kind')}/{(o.get('metadata') or {}).get('name')}" for o in result.generated]
    edits = [c.mutator for c in result.changes if c.mutator in GENERATORS]
    would += [f"{edits.count(g)} edit(s) by generator {g}" for g in dict.fromkeys(edits)]
    return Hardened([_patch_op(c) for c in mine], mine, result.findings, would)


def _patch_op(change: Change) -> dict[str, Any]:
    """`change.patch_op()`, with the JSON pointer of each path made once per process (an answer has ~17
    operations over a few dozen paths that recur from object to object: the pointers were a third of the time
    the patch took)."""
    path = change.path
    pointer = _POINTERS.get(path)
    if pointer is None:
        pointer = "/" + "/".join([str(p).replace("~", "~0").replace("/", "~1") for p in path]) if path else ""
        if len(_POINTERS) < 4096:  # a bounded vocabulary of paths, but the bound keeps odd input from growing it
            _POINTERS[path] = pointer
    op: dict[str, Any] = {"op": change.op, "path": pointer}
    if change.op != "remove":
        op["value"] = change.new
    return op


_POINTERS: dict[tuple[Any, ...], str] = {}  # a path -> its RFC 6901 pointer, as kharden.model.pointer makes it


NOT_AT_ADMISSION = ("automountServiceAccountToken", "apiVersions")


def at_admission(profile: Profile) -> Profile:
    """The profile without the mutators whose decision needs more than the one object (see the module's doc):
    what the webhook and the MutatingAdmissionPolicy both run. Made once per profile (a server answers thousands
    of requests with one)."""
    cached = _AT_ADMISSION.get(id(profile))
    if cached is not None and cached[0] is profile:
        return cached[1]
    off = {m: dataclasses.replace(profile.mutators[m], enabled=False) for m in NOT_AT_ADMISSION if m in profile.mutators}
    made = dataclasses.replace(profile, mutators={**profile.mutators, **off}) if off else profile
    if len(_AT_ADMISSION) > 16:
        _AT_ADMISSION.clear()
    _AT_ADMISSION[id(profile)] = (profile, made)
    return made


_AT_ADMISSION: dict[int, tuple[Profile, Profile]] = {}  # id -> (the profile, kept alive so its id stays its own)
