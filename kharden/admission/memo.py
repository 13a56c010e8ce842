"""The answers to objects seen before: a bounded LRU from an object's JSON to what hardening it gave.

Why it is right: `harden_object` is a pure function of the object and the profile (no clock, no lookup outside
the object; the image catalog is data), so an identical object gets an identical patch and identical warnings.
Why it pays: the pods a ReplicaSet, a Job or a DaemonSet creates come from one template and reach the API server
alike (the controller sets `generateName`; the API server makes the name after mutating admission:
kubernetes/kubernetes#76680), so a scale-up of N pods costs one hardening and N-1 look-ups.

The key leaves out what tells one pod of a template from another (`VOLATILE`): the name and `generateName` (whether
each is there is kept, not its value), `uid`, `ownerReferences` and the `pod-template-hash` /
`controller-revision-hash` labels; so the pods of a rollout's new ReplicaSet, or pods sent with names, are
answered from the first. That is right only where the answer does not depend on them, and it is held so:
- no mutator or check reads `uid`, `ownerReferences` or those labels; the mutators and checks read no object's
  name (kharden.find and kharden.mutators decide by the pod spec, container names and annotations);
- where a name does change the answer it is written into it: a finding's message names its object
  (`Pod/app/web-x`), a generator's warning the ServiceAccount it would make after the workload. So an answer is
  remembered under the short key only when none of the left-out values occurs in its text (patch, reasons,
  messages, warnings); else under the object's whole JSON, as before;
- a Namespace's name decides whether it is protected (kharden.know.protected) without being written: Namespaces
  and objects with no `metadata` mapping are keyed whole.
tests/test_admission_review.py proves it over the corpus: the remembered answer to a twin differing in exactly
those fields equals hardening the twin.

    admission:
      cache: 256      # objects remembered per process (0: off); each entry holds the object's JSON and its answer

Figures with and without it are in docs/admission.md: a benchmark that repeats its requests flatters a cache, so
the headline there is measured with `cache: 0`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from kharden.admission.adapter import Hardened

MAX_OBJECT = 64 << 10  # characters of JSON: a pod is a few thousand; a larger object is hardened each time
VOLATILE_META = ("uid", "ownerReferences")  # left out of the key: nothing reads them
NAMES = ("name", "generateName")  # their presence is kept in the key, their value is not
VOLATILE_LABELS = ("pod-template-hash", "controller-revision-hash")  # set by the controller per template revision
_THERE = "\0"  # what a left-out name or label value is in the key: present (and not empty)


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[bool, str], Hardened | None] = OrderedDict()  # None: "keyed whole"
        self.hits = self.misses = 0

    def harden(self, obj: dict[str, Any], generators: bool, make: Callable[[], Hardened]) -> tuple[Hardened, bool]:
        """`make()`'s answer for `obj`, remembered (computed only for an object not seen lately); and whether it
        was remembered. The keys are taken before `make` runs: the pipeline edits the request's object in place.
        Under the short key (`template_key`) is the answer, or None when its template's answers name the object:
        then the object's whole JSON is the key."""
        if self.size <= 0:
            return make(), False
        short, volatile = template_key(obj)
        key = (generators, short if short is not None else _whole(obj))
        if len(key[1]) > MAX_OBJECT:  # memory stays bounded: at most size x MAX_OBJECT characters of keys
            return make(), False
        found = self._get(key)
        if found is None and short is not None and key in self.entries:
            key = (generators, _whole(obj))
            found = self._get(key)
        if found is not None:
            self.hits += 1
            return found, True
        self.misses += 1
        whole = _whole(obj) if key[1] is short else key[1]  # before `make` edits the object
        made = make()  # a KhardenError is not remembered: the next identical object is read again
        if key[1] is short and _mentions(made, volatile):
            self._put(key, None)
            key = (generators, whole)
        self._put(key, made)
        return made, False

    def _get(self, key: tuple[bool, str]) -> Hardened | None:
        found = self.entries.get(key)
        if key in self.entries:
            self.entries.move_to_end(key)
        return found

    def _put(self, key: tuple[bool, str], value: Hardened | None) -> None:
        if len(key[1]) > MAX_OBJECT:  # a whole key a few names longer than its short one: the bound holds
            return
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)


def _whole(obj: dict[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def template_key(obj: dict[str, Any]) -> tuple[str | None, list[str]]:
    """The object's JSON without what tells one pod of a template from another (see the module's doc), and the
    values left out; (None, []) for an object keyed whole (a Namespace, a metadata that is no mapping, nothing to
    leave out)."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or obj.get("kind") == "Namespace":
        return None, []
    short = {k: v for k, v in meta.items() if k not in VOLATILE_META}
    volatile = [str(meta[k]) for k in ("uid",) if k in meta]
    for name in NAMES:
        if meta.get(name):
            volatile.append(str(meta[name]))
            short[name] = _THERE
    labels = meta.get("labels")
    if isinstance(labels, dict) and any(k in labels for k in VOLATILE_LABELS):
        volatile += [str(labels[k]) for k in VOLATILE_LABELS if labels.get(k)]
        short["labels"] = {k: (_THERE if k in VOLATILE_LABELS and v else v) for k, v in labels.items()}
    if short == meta:
        return None, []
    return json.dumps({**obj, "metadata": short}, separators=(",", ":"), ensure_ascii=False), volatile


def _mentions(made: Hardened, values: list[str]) -> bool:
    """Whether any left-out value is written anywhere in the answer: then it is remembered for that object only."""
    text = "\n".join([json.dumps(made.patch, ensure_ascii=False), *made.generated,
                      *(c.reason for c in made.changes),
                      *(f"{f.message}\n{f.reason}" for f in made.findings)])
    return any(stem and stem in text for v in values for stem in {v, v.strip("-.")})
