"""`kharden generate admission-policies`, proved with a real CEL implementation (cel-expr-python, Google's cel-cpp):

- every validation of the ValidatingAdmissionPolicy agrees with kharden's PSS checker, check by check, on all 148
  Pod Security Standards fixtures;
- the MutatingAdmissionPolicy's ApplyConfiguration (evaluated in its map form, merged as server-side apply merges)
  gives what `kharden fix` gives at admission (the webhook's decision: without the mutators whose decision is not in
  the one object, kharden.admission.adapter.at_admission) on the fixtures, makes pass every failing fixture `fix`
  makes pass, and matches nothing once applied (re-invocation is a no-op);
- every generated object validates against the OpenAPI schema of its Kubernetes version.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cel_eval import apply, evaluate, variables_of

kubernetes_validate = pytest.importorskip("kubernetes_validate")

from kharden import run  # noqa: E402
from kharden.admission import apply_cel, mutation_cel, policies  # noqa: E402
from kharden.admission.adapter import at_admission  # noqa: E402
from kharden.checks.pss.registry import check_objects  # noqa: E402
from kharden.profile import load_profile  # noqa: E402
from kharden.read import read_paths  # noqa: E402
from kharden.read.source import Document, Source  # noqa: E402

# Where the policy's result differs from `kharden fix` (both pass), and why:
EXPECTED_DIFFERENCES = {
    # fix moves the deprecated AppArmor annotation to the field; an ApplyConfiguration cannot remove a key
    "apparmorprofile0.yaml",
    # fix adds runAsNonRoot to Windows pods too; the policy does not match Windows pods at all
    "base_windows.yaml",
    # fix knows a Windows pod by every marker (issue 21: here windowsOptions.hostProcess) and adds no Linux-only
    # field; the policy's match condition knows spec.os.name only, as Pod Security Admission does
    "windowshostprocess0.yaml",
    "windowshostprocess1.yaml",
}


def fixtures(corpus: Path, level: str) -> list[Path]:
    found = sorted((corpus / "pod-security-admission" / level / "v1.37").glob("*/*.yaml"))
    assert found, "the PSS fixtures are missing"
    return found


@functools.lru_cache(maxsize=None)  # a subprocess each: run once per arguments
def generated(profile: str, *extra: str) -> list[dict[str, Any]]:
    out = subprocess.run([sys.executable, "-m", "kharden", "generate", "admission-policies", "--profile", profile,
                          *extra], capture_output=True, text=True, check=True).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def fixed_object(obj: dict[str, Any], profile: Any) -> dict[str, Any]:
    """`obj` as `kharden fix --no-generate` hardens it (the pipeline, on a copy)."""
    from kharden.pipeline import Request
    from kharden.pipeline import run as pipeline_run

    copy_ = yaml.safe_load(yaml.safe_dump(obj))
    pipeline_run(Request([Source("x.yaml", "", docs=[Document("x.yaml", 0, None, copy_, False)])], profile,
                         generate=False, splice=False))
    return copy_  # type: ignore[no-any-return]


def violations(obj: dict[str, Any], level: str) -> set[str]:
    source = Source("x", "", docs=[Document("x", 0, None, obj, repeated_keys=False)])
    return {f.rule.removeprefix("pss.") for f in check_objects(list(source.objects()), level, "latest")}


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_validations_agree_with_kharden_on_every_pss_fixture(corpus: Path, level: str) -> None:
    (policy,) = [o for o in generated(level) if o["kind"] == "ValidatingAdmissionPolicy"]
    spec = policy["spec"]
    disagree = []
    files = fixtures(corpus, level)
    for path in files:
        obj = yaml.safe_load(path.read_text())
        variables = variables_of(spec["variables"], obj)
        failed = {v["message"].split(":")[0] for v in spec["validations"]
                  if evaluate(v["expression"], obj, variables) is not True}
        if failed != violations(obj, level) or bool(failed) != (path.parent.name == "fail"):
            disagree.append((path.name, failed, violations(obj, level)))
    assert not disagree
    assert len(files) == {"baseline": 49, "restricted": 99}[level]  # 148 in all


def _map(objs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == "MutatingAdmissionPolicy" and o["metadata"]["name"] == name)


def admit(policy: dict[str, Any], obj: dict[str, Any], expression: str) -> dict[str, Any]:
    """`obj` after the policy, if its matchConditions match it (`expression`: the apply configuration as maps)."""
    spec = policy["spec"]
    if not all(evaluate(c["expression"], obj) is True for c in spec["matchConditions"]):
        return obj
    return apply(obj, evaluate(expression, obj, variables_of(spec.get("variables", []), obj)))  # type: ignore[no-any-return]


@pytest.fixture
def without_image_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """A MutatingAdmissionPolicy's CEL cannot see what an image needs: it is compared with `fix` knowing no image
    (the fixtures' registry.k8s.io/pause would otherwise run as its own 65535)."""
    from kharden.images import catalog

    monkeypatch.setattr(catalog, "lookup", lambda image: None)


@pytest.mark.usefixtures("without_image_catalog")
@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_mutations_do_what_fix_does_on_every_pss_fixture(corpus: Path, level: str) -> None:
    profile = at_admission(load_profile(level))  # what the webhook runs: no token cut (the bindings are not seen)
    policy = _map(generated(level), "kharden-harden-pods")
    tree = mutation_cel.root((), {m: profile.mutators[m] for m in profile.enabled_mutators()})
    as_maps = apply_cel.render(tree, typed=False)
    assert apply_cel.render(tree, typed=True) == policy["spec"]["mutations"][0]["applyConfiguration"]["expression"]
    differ, made_pass, tokens_left = [], 0, 0
    for path in fixtures(corpus, level):
        obj = yaml.safe_load(path.read_text())
        after = admit(policy, obj, as_maps)
        token = obj["spec"].get("automountServiceAccountToken")
        assert after["spec"].get("automountServiceAccountToken") == token, path.name  # as the webhook: left alone
        tokens_left += token is None and after is not obj
        outcome = run.fix_sources(read_paths([str(path)]), profile, generate=False)
        fixed = yaml.safe_load(outcome.text_of(outcome.result.sources[0]))
        assert violations(after, level) == violations(fixed, level), path.name  # passes exactly when fix's does
        made_pass += bool(violations(obj, level)) and not violations(after, level)
        if after != fixed:
            differ.append(path.name)
        assert admit(policy, after, as_maps) is after, path.name  # matched no more: re-invocation is a no-op
    assert set(differ) <= EXPECTED_DIFFERENCES, differ
    assert tokens_left > 40  # the token check above is not vacuous: many mutated pods had no token setting
    assert made_pass == {"baseline": 0, "restricted": 9}[level]  # baseline adds only; explicit values stay


@pytest.mark.usefixtures("without_image_catalog")
def test_workload_templates_and_cronjobs_are_hardened_like_fix(corpus: Path) -> None:
    profile = at_admission(load_profile("restricted"))
    objs = generated("restricted")
    mutators = {m: profile.mutators[m] for m in profile.enabled_mutators()}
    checked = 0
    for name, prefix, _ in policies.TEMPLATES[1:]:
        policy = _map(objs, f"kharden-harden-{name}")
        as_maps = apply_cel.render(mutation_cel.root(prefix, mutators), typed=False)
        for path in fixtures(corpus, "restricted"):
            if path.name in EXPECTED_DIFFERENCES:
                continue
            pod = yaml.safe_load(path.read_text())
            template = {"metadata": pod.get("metadata", {}), "spec": pod["spec"]}
            if name == "cronjobs":
                obj = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "w"},
                       "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}}
            else:
                obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"},
                       "spec": {"template": template}}
            after = admit(policy, obj, as_maps)
            assert after == fixed_object(obj, profile), (name, path.name)
            checked += 1
    assert checked > 150


def test_namespaces_get_the_labels_fix_gives() -> None:
    profile = load_profile("restricted")
    policy = _map(generated("restricted"), "kharden-namespace-labels")
    as_maps = apply_cel.render(policies.namespace_labels(profile.mutators["namespaceLabels"]), typed=False)
    for meta in ({"name": "shop"}, {"name": "team", "labels": {"pod-security.kubernetes.io/enforce": "baseline"}},
                 {"name": "kube-system"}):
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}
        after = admit(policy, ns, as_maps)
        assert after == fixed_object(ns, profile)
        assert admit(policy, after, as_maps) is after


@pytest.mark.parametrize("version, api", [("1.34", "v1beta1"), ("1.35", "v1beta1"), ("1.36", "v1"), ("1.37", "v1")])
def test_every_object_validates_against_its_versions_schema(version: str, api: str) -> None:
    objs = generated("restricted", "--kube-version", version, "--validation-actions", "Warn,Audit")
    kinds = {o["kind"] for o in objs}
    assert kinds == {"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "MutatingAdmissionPolicy",
                     "MutatingAdmissionPolicyBinding"}
    for obj in objs:
        if obj["kind"].startswith("Mutating"):
            assert obj["apiVersion"] == f"admissionregistration.k8s.io/{api}"
        kubernetes_validate.validate(obj, version, strict=True)
    binding = next(o for o in objs if o["kind"] == "ValidatingAdmissionPolicyBinding")
    assert binding["spec"]["validationActions"] == ["Warn", "Audit"]


def test_before_1_34_only_validation_and_bad_actions_refused() -> None:
    assert {o["kind"] for o in generated("restricted", "--kube-version", "1.31")} == {
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}
    bad = subprocess.run([sys.executable, "-m", "kharden", "generate", "admission-policies", "--validation-actions",
                          "Deny,Warn"], capture_output=True, text=True)
    assert bad.returncode == 2 and "not Deny with Warn" in bad.stderr
