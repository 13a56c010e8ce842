"""What `kharden serve` answers, without a server: kharden.admission.review on AdmissionReview requests."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from kharden.admission import review
from kharden.admission_settings import resolve
from kharden.errors import ProfileError
from kharden.profile import load_profile
from tests.admission_helpers import admission_review, patched

PROFILE = load_profile("restricted")
POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
       "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def ask(obj: Any, endpoint: str = "mutate", settings: dict[str, Any] | None = None, **request: Any) -> review.Answer:
    body = json.dumps(admission_review(obj, **request)).encode()
    return review.answer(review.parse(body), endpoint, PROFILE, resolve(settings))


def test_mutate_patches_a_pod_and_echoes_the_uid() -> None:
    a = ask(POD, uid="abc")
    assert a.result == "patched" and a.response["response"]["uid"] == "abc"
    assert a.response["apiVersion"] == "admission.k8s.io/v1" and a.response["kind"] == "AdmissionReview"
    ops = json.loads(base64.b64decode(a.response["response"]["patch"]))
    assert ops and all(op["op"] == "add" for op in ops)  # add if absent: nothing of the pod is replaced
    assert any("runAsNonRoot" in json.dumps(op) for op in ops)


def test_generators_are_reported_by_default_never_run() -> None:
    asked = ask(POD).response["response"]  # the default (issue 24): what fix would generate is a warning
    assert any(w.startswith("generators do not run at admission") and "NetworkPolicy/" in w
               for w in asked.get("warnings", []))
    quiet = ask(POD, settings={"generatorWarnings": False}).response["response"]  # a sixth less CPU
    assert not any(w.startswith("generators") for w in quiet.get("warnings", []))
    assert quiet["patch"] == asked["patch"]  # the patch is the same either way


@pytest.mark.parametrize("obj, request_, why", [
    ({**POD, "metadata": {"name": "p", "namespace": "kube-system"}}, {}, "namespace kube-system is protected"),
    ({**POD, "metadata": {"name": "p", "annotations": {"admission.kharden.dev/skip": "vendor pod"}}}, {},
     "admission.kharden.dev/skip: vendor pod"),
    (POD, {"operation": "UPDATE"}, "a Pod's spec cannot change"),
    (POD, {"operation": "DELETE"}, "operation DELETE"),
    (POD, {"subResource": "ephemeralcontainers"}, "subresource ephemeralcontainers"),
    ({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"x": 1}}, {},
     "kind Widget has no pod spec"),
])
def test_out_of_scope_requests_are_allowed_untouched(obj: Any, request_: dict[str, Any], why: str) -> None:
    a = ask(obj, **request_)
    assert a.result == "skipped" and a.info["skipped"].startswith(why)
    assert a.response["response"] == {"uid": "u-1", "allowed": True}


def test_a_deployment_update_is_hardened_its_template_is_mutable() -> None:
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                  "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x"}]}}}}
    assert ask(deployment, operation="UPDATE").result == "patched"


def test_namespaces_get_pod_security_labels() -> None:
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    out = patched(ns, ask(ns).response["response"])
    assert out["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert ask({**ns, "metadata": {"name": "kube-system"}}).result == "skipped"


def test_dry_run_gets_the_same_answer() -> None:
    assert ask(POD, dryRun=True).response == ask(POD).response


@pytest.mark.parametrize("enforcement, allowed, result", [("allow", True, "allowed"), ("warn", True, "warned"),
                                                          ("deny", False, "denied")])
def test_validate_per_enforcement(enforcement: str, allowed: bool, result: str) -> None:
    a = ask(POD, "validate", {"enforcement": enforcement})
    response = a.response["response"]
    assert (a.result, response["allowed"]) == (result, allowed)
    if result == "denied":
        assert response["status"]["code"] == 403 and "runAsNonRoot" in response["status"]["message"]
    if result == "warned":
        assert response["warnings"]


def test_validate_allows_what_mutate_made() -> None:
    hardened = patched(POD, ask(POD).response["response"])
    a = ask(hardened, "validate", {"enforcement": "deny"})
    assert a.response["response"]["allowed"] is True, a.response


@pytest.mark.parametrize("policy, allowed", [("Fail", False), ("Ignore", True)])
def test_an_object_kharden_cannot_read_follows_the_failure_policy(policy: str, allowed: bool) -> None:
    broken = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": "not a list"}}
    a = ask(broken, settings={"failurePolicy": policy})
    response = a.response["response"]
    assert a.result == "error" and response["allowed"] is allowed
    message = response["status"]["message"] if not allowed else response["warnings"][0]
    assert message.startswith("kharden cannot read this object:") and policy in message


@pytest.mark.parametrize("body, message", [
    (b'{"kind": "AdmissionReview",', "not JSON"),
    (json.dumps({**admission_review(POD), "apiVersion": "admission.k8s.io/v1beta1"}).encode(), "is not served"),
    (b'{"kind": "ConfigMap"}', "not an AdmissionReview"),
    (json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).encode(), "no request"),
])
def test_bad_bodies_say_why(body: bytes, message: str) -> None:
    with pytest.raises(review.BadReview, match=message):
        review.parse(body)


def test_the_admission_section_is_validated(tmp_path: Any) -> None:
    bad = tmp_path / "p.yaml"
    for text, message in [("admission: {enforcment: deny}", "admission.enforcment: unknown option"),
                          ("admission: {enforcement: block}", "must be one of allow, warn, deny"),
                          ("admission: {protectedNamespaces: kube-system}", "expected list"),
                          ("admission: {cache: -1}", "0 or more"), ("admission: {cache: true}", "0 or more")]:
        bad.write_text("extends: restricted\n" + text + "\n")
        with pytest.raises(ProfileError, match=message):
            load_profile(str(bad))


def _corpus_workloads(corpus: Any, limit: int = 150) -> list[dict[str, Any]]:
    import yaml

    from tests.admission_helpers import as_json
    from tests.conftest import corpus_files

    out = []
    for path in corpus_files():
        try:
            docs = list(yaml.load_all(path.read_text(encoding="utf-8-sig"), Loader=yaml.CSafeLoader))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        out += [as_json(d) for d in docs if isinstance(d, dict) and d.get("kind") in ("Pod", "Deployment", "Job")
                and isinstance(d.get("spec"), dict)]
    return out[:limit]


def test_a_remembered_answer_is_the_answer_over_the_corpus(corpus: Any) -> None:
    """admission.cache: the second identical object is answered from memory, exactly as hardening it again."""
    from kharden.admission.memo import Memo

    memo, settings = Memo(1000), resolve({"enforcement": "deny"})
    objs = _corpus_workloads(corpus)
    assert len(objs) > 100
    for endpoint in ("mutate", "validate"):
        for obj in objs:
            body = json.dumps(admission_review(obj, uid="x")).encode()
            fresh = review.answer(review.parse(body), endpoint, PROFILE, settings)
            first = review.answer(review.parse(body), endpoint, PROFILE, settings, memo)
            again = review.answer(review.parse(body), endpoint, PROFILE, settings, memo)
            assert fresh.response == first.response == again.response, obj["metadata"].get("name")
            assert again.info.get("cached") is True and "cached" not in fresh.info
    assert memo.hits >= 2 * len(objs) - 1  # hit (a duplicate object in the corpus may hit on its first ask too)


def test_the_cache_is_bounded_and_can_be_off() -> None:
    from kharden.admission.memo import MAX_OBJECT, Memo

    memo = Memo(2)
    pods = [{**POD, "metadata": {"name": f"p{i}", "namespace": "app"}} for i in range(3)]
    for pod in pods:
        ask_with = review.answer(review.parse(json.dumps(admission_review(pod)).encode()), "mutate", PROFILE,
                                 resolve(None), memo)
        assert "cached" not in ask_with.info
    assert len(memo.entries) == 2 and memo.misses == 3
    big = {**POD, "metadata": {"name": "big", "annotations": {"a": "x" * MAX_OBJECT}}}
    for _ in range(2):
        review.answer(review.parse(json.dumps(admission_review(big)).encode()), "mutate", PROFILE, resolve(None), memo)
    assert memo.hits == 0 and len(memo.entries) == 2  # too large to remember
    off = Memo(0)
    for _ in range(2):
        review.answer(review.parse(json.dumps(admission_review(POD)).encode()), "mutate", PROFILE, resolve(None), off)
    assert off.hits == off.misses == 0 and not off.entries
