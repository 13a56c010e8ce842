"""admission.cache keyed by template (kharden.admission.memo): the pods of one template differ in their name,
generateName, uid, ownerReferences and hash labels; a remembered answer for a twin must be the twin's own answer."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kharden.admission import review
from kharden.admission.memo import Memo, template_key
from kharden.admission_settings import resolve
from kharden.profile import load_profile
from tests.admission_helpers import admission_review
from tests.test_admission_review import POD, _corpus_workloads

PROFILE = load_profile("restricted")


def twin(obj: dict[str, Any], n: int) -> dict[str, Any]:
    """`obj` as the n-th pod of its template: another name (even n) or generateName (odd n), uid, owner and hash
    labels (a pod a controller creates carries them all)."""
    out = copy.deepcopy(obj)
    meta = out.setdefault("metadata", {})
    base = str(meta.get("name") or meta.get("generateName") or "w").rstrip("-")
    meta.pop("name", None)
    meta.pop("generateName", None)  # a controller's pod has one of them: a name, or a generateName the API server completes
    meta["generateName" if n % 2 else "name"] = f"{base}-{n:x}7f9c{n}-" if n % 2 else f"{base}-7d9f{n}-q{n}z"
    meta["uid"] = f"0000-{n}-uid"
    meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{base}-rs{n}",
                                "uid": f"owner-{n}", "controller": True}]
    meta["labels"] = {**(meta.get("labels") or {}), "pod-template-hash": f"h{n}x{n}",
                      "controller-revision-hash": f"r{n}v{n}"}
    return out


def _answer(obj: dict[str, Any], endpoint: str, settings: Any, memo: Memo | None = None) -> review.Answer:
    body = json.dumps(admission_review(obj, uid="same")).encode()
    return review.answer(review.parse(body), endpoint, PROFILE, settings, memo)


@pytest.mark.parametrize("generator_warnings", [False, True])
def test_a_twin_answered_from_memory_gets_its_own_answer_over_the_corpus(corpus: Any, generator_warnings: bool) -> None:
    """For every workload of the corpus, at both endpoints: harden twin 1, then ask for twins 2 and 3 through the
    cache; each answer equals hardening that twin afresh (patch, warnings, violations, allowed)."""
    settings = resolve({"enforcement": "deny", "generatorWarnings": generator_warnings})
    memo = Memo(10_000)
    objs = _corpus_workloads(corpus)
    assert len(objs) > 100
    for endpoint in ("mutate", "validate"):
        for obj in objs:
            _answer(twin(obj, 1), endpoint, settings, memo)
            for n in (2, 3):
                remembered = _answer(twin(obj, n), endpoint, settings, memo)
                fresh = _answer(twin(obj, n), endpoint, settings)
                assert remembered.response == fresh.response, (endpoint, obj["metadata"].get("name"), n)
    if not generator_warnings:  # nothing names the pod: every twin after the first is a hit
        assert memo.hits >= 2 * 2 * len(objs) * 0.9
    else:  # the generators' warning names the ServiceAccount after the pod: most are keyed whole, none is wrong
        assert memo.hits > 0


def test_an_answer_that_names_its_object_is_remembered_for_that_object_only() -> None:
    settings = resolve({"generatorWarnings": True})  # "would make: ServiceAccount/<the pod's name>"
    memo = Memo(100)
    first = _answer({**POD, "metadata": {"name": "alpha-one", "namespace": "app"}}, "mutate", settings, memo)
    assert any("ServiceAccount/alpha-one" in w for w in first.response["response"]["warnings"])
    other = _answer({**POD, "metadata": {"name": "beta-two", "namespace": "app"}}, "mutate", settings, memo)
    assert "cached" not in other.info and any("ServiceAccount/beta-two" in w for w in other.response["response"]["warnings"])
    again = _answer({**POD, "metadata": {"name": "beta-two", "namespace": "app"}}, "mutate", settings, memo)
    assert again.info.get("cached") is True and again.response == other.response


def test_what_the_short_key_keeps() -> None:
    pod = twin(POD, 1)
    short, volatile = template_key(pod)
    assert short is not None and "0000-1-uid" in volatile and "owner-1" not in short and "h1x1" not in short
    assert template_key(twin(POD, 3))[0] == short  # another pod of the template: the same key
    for changed in ({"namespace": "other"}, {"annotations": {"a": "b"}}, {"labels": {"app": "x"}}):
        other = twin(POD, 1)
        for k, v in changed.items():
            other["metadata"][k] = v if k != "labels" else {**other["metadata"]["labels"], **v}
        assert template_key(other)[0] != short, changed  # all else of the metadata is kept
    spec = twin(POD, 1)
    spec["spec"]["containers"][0]["image"] = "nginx:1"
    assert template_key(spec)[0] != short
    unnamed = twin(POD, 1)
    del unnamed["metadata"]["generateName"]
    assert template_key(unnamed)[0] != short  # whether a name is there is kept, its value is not
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kube-system", "uid": "u"}}
    assert template_key(namespace) == (None, [])  # a Namespace's name decides whether it is protected
