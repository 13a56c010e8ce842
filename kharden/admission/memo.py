"""The answers to objects seen before: a bounded LRU from an object's exact JSON to what hardening it gave.

Why it is right: `harden_object` is a pure function of the object and the profile (no clock, no lookup outside
the object; the image catalog is data), so an identical object gets an identical patch and identical warnings.
Why it pays: the pods a ReplicaSet, a Job or a DaemonSet creates come from one template and reach the API server
alike (the controller sets `generateName`; the API server makes the name after mutating admission:
kubernetes/kubernetes#76680), so a scale-up or a rollout
of N pods costs one hardening and N-1 look-ups. The key is the object itself, names and all: nothing is assumed
about which fields do not matter.

    admission:
      cache: 256      # objects remembered per process (0: off); each entry holds the object's JSON and its answer

Figures with and without it are in docs/admission.md: a benchmark that repeats its requests flatters a cache, so
the headline there is measured with `cache: 0`.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Callable

from kharden.admission.adapter import Hardened


MAX_OBJECT = 64 << 10  # characters of JSON: a pod is a few thousand; a larger object is hardened each time


class Memo:
    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[tuple[bool, str], Hardened] = OrderedDict()
        self.hits = self.misses = 0

    def harden(self, obj: dict[str, Any], generators: bool, make: Callable[[], Hardened]) -> tuple[Hardened, bool]:
        """`make()`'s answer for `obj`, remembered (computed only for an object not seen lately); and whether it
        was remembered. The key is taken before `make` runs: the pipeline edits the request's object in place."""
        if self.size <= 0:
            return make(), False
        key = (generators, json.dumps(obj, separators=(",", ":"), ensure_ascii=False))
        if len(key[1]) > MAX_OBJECT:  # memory stays bounded: at most size x MAX_OBJECT characters of keys
            return make(), False
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
            self.hits += 1
            return found, True
        self.misses += 1
        made = make()  # a KhardenError is not remembered: the next identical object is read again
        self.entries[key] = made
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return made, False
