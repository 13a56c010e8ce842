"""Helm post-renderer contract, tested with input shaped like Helm's (Helm itself is not on these machines)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import types
from typing import Any

import pytest
import yaml

from kharden import run
from kharden.generators import GENERATORS
from kharden.generators.base import Generated
from kharden.integrations import helm
from kharden.options import ProfileOptions
from tests.integration_helpers import REPO, kharden, objects

RENDERED = os.path.join(REPO, "tests", "data", "helm", "rendered.yaml")
PLUGIN = os.path.join(REPO, "integrations", "helm-plugin")


def _text() -> str:
    return open(RENDERED).read()


def test_output_is_the_fixed_stream_with_sources_annotations_and_order_kept() -> None:
    done = kharden("helm-post-render", "--profile", "restricted", "--no-generate", stdin=_text())
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert objects(out) == objects(run.fix([RENDERED], "restricted", generate=False).stream())
    sources = [line for line in out.splitlines() if line.startswith("# Source:")]
    assert sources == [line for line in _text().splitlines() if line.startswith("# Source:")]
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(out) if d]
    assert names == ["shop", "shop-web", "shop-test-connection"]
    for d in yaml.safe_load_all(out):
        if d:
            assert d["metadata"]["annotations"][helm.FILENAME].startswith("shop/templates/")
    lines = iter(out.splitlines())  # every input line survives, in order (edits only add lines here)
    assert all(any(line == got for got in lines) for line in _text().splitlines())


def test_hooks_are_hardened_too() -> None:
    out, _ = helm.post_render(_text(), run.resolve_profile("restricted"))
    hook = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "Pod"][0]
    assert hook["spec"]["containers"][0]["securityContext"]["allowPrivilegeEscalation"] is False


HOOK_POLICY = """---
# Source: shop/templates/tests/isolation.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-isolation
  annotations:
    "helm.sh/hook": test
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"""


def _fake_generator(seen: list[str]) -> types.SimpleNamespace:
    def generate(objects: list[Any], opts: dict[str, Any], editor_for: Any, **kw: Any) -> Generated:
        seen.extend(o.ref.name for o in objects)
        made = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"for-{o.ref.name}"}} for o in objects]
        return Generated(objects=made)

    return types.SimpleNamespace(ID="fake", Options=ProfileOptions, generate=generate)


def test_only_the_networkpolicy_generator_sees_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    seen_by_netpol: list[str] = []
    monkeypatch.setitem(GENERATORS, "fake", _fake_generator(seen))
    monkeypatch.setitem(GENERATORS, helm.NETPOL, _fake_generator(seen_by_netpol))
    profile = dataclasses.replace(run.resolve_profile("restricted"),
                                  generators={"fake": ProfileOptions(enabled=True), helm.NETPOL: ProfileOptions(enabled=True)})
    out, result = helm.post_render(_text() + HOOK_POLICY, profile)
    assert seen == ["shop", "shop-web"]
    assert seen_by_netpol == ["shop", "shop-web", "shop-test-connection"]  # hook workloads, not other hooks
    assert out.startswith(_text().split("\n", 1)[0]) and len(result.generated) == 5
    # Helm 4 input: Helm files each generated object by its annotation and writes its `# Source:` line itself.
    assert "# Source: kharden" not in out
    generated = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "ConfigMap"]
    assert [g["metadata"]["annotations"][helm.FILENAME] for g in generated] == ["kharden-generated.yaml"] * 5
    helm3 = _text().replace("    postrenderer.helm.sh/postrender-filename", "    x-filename")
    out, result = helm.post_render(helm3, profile)
    assert out.count("---\n# Source: kharden/generated.yaml\n") == len(result.generated) == 5
    assert helm.FILENAME not in out


@pytest.mark.parametrize("stdin, message", [
    ("apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n", "not valid YAML"),
    ("", "no Kubernetes objects"),
    ("---\n# Source: shop/templates/empty.yaml\n", "no Kubernetes objects"),
])
def test_failure_is_a_clear_message_a_nonzero_exit_and_no_stdout(stdin: str, message: str) -> None:
    done = kharden("helm-post-render", stdin=stdin)
    assert done.returncode != 0 and done.stdout == "" and message in done.stderr


def test_bad_profile_fails_before_reading_and_prints_nothing() -> None:
    done = kharden("helm-post-render", "--profile", "nope", stdin=_text())
    assert done.returncode == 2 and done.stdout == "" and "no such profile" in done.stderr


def test_helm4_plugin_runs_kharden_with_the_post_renderer_args() -> None:
    manifest = yaml.safe_load(open(os.path.join(PLUGIN, "plugin.yaml")))
    assert manifest["apiVersion"] == "v1" and manifest["type"] == "postrenderer/v1"
    assert manifest["runtime"] == "subprocess"
    command = manifest["runtimeConfig"]["platformCommand"][0]["command"]
    script = command.replace("${HELM_PLUGIN_DIR}", PLUGIN)
    assert os.access(script, os.X_OK)
    env = {**os.environ, "HELM_PLUGIN_DIR": PLUGIN, "PYTHONPATH": REPO, "KHARDEN": f"{sys.executable} -m kharden"}
    done = subprocess.run([script, "--profile=baseline"], input=_text(), capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert objects(done.stdout) == objects(run.fix([RENDERED], "baseline").stream())


SERVICE = """---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: shop-web
spec:
  selector:
    app.kubernetes.io/name: shop
  ports:
    - port: 80
      targetPort: http
"""


def test_real_generators_allow_a_hooks_traffic_and_leave_its_service_account_alone() -> None:
    """The test hook calls shop-web:80: under the generated default-deny it is allowed, as fix would allow it."""
    text = _text().replace("---\n# Source: shop/templates/tests/", SERVICE + "---\n# Source: shop/templates/tests/")
    out, result = helm.post_render(text + HOOK_POLICY, run.resolve_profile("restricted"), generate_=True)
    mutators = set(run.resolve_profile("restricted").mutators)
    hook_changes = [c for c in result.changes if c.obj.name == "shop-test-connection"]
    assert hook_changes and all(c.mutator in mutators for c in hook_changes)  # hardened, no RBAC edit
    hook = [d for d in yaml.safe_load_all(out) if d and d["metadata"]["name"] == "shop-test-connection"][0]
    assert "serviceAccountName" not in hook["spec"]
    policies = {g["metadata"]["name"]: g for g in result.generated if g["kind"] == "NetworkPolicy"}
    assert "default-deny" in policies  # a hook's own NetworkPolicy (installed for `helm test` only) is not isolation
    egress = policies["shop-test-connection-egress"]["spec"]["egress"]
    assert egress == [{"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "shop"}}}],
                       "ports": [{"protocol": "TCP", "port": 80}]}]
    ingress = policies["shop-web-ingress"]["spec"]["ingress"]
    assert ingress == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/managed-by": "Helm"}}}],
                        "ports": [{"protocol": "TCP", "port": 80}]}]
    assert not [g for g in result.generated if g["kind"] != "NetworkPolicy" and "test-connection" in str(g)]


def test_without_hooks_it_is_exactly_fix_with_generation(tmp_path: str) -> None:
    """The post-renderer is `fix` of the stream (minus hooks for generators): this catches the two drifting apart."""
    text = _text().split("---\n# Source: shop/templates/tests/")[0]
    text = text.replace("  annotations:\n    postrenderer.helm.sh/postrender-filename", "  x-helm4-filename")  # Helm 3
    path = os.path.join(str(tmp_path), "release.yaml")
    with open(path, "w") as f:
        f.write(text)
    out, _ = helm.post_render(text, run.resolve_profile("restricted"), generate_=True)
    want = run.fix([path], "restricted", generate=True)
    assert objects(out) == objects(want.stream()) and want.result.generated


def test_a_stream_ending_in_a_block_scalar_without_a_line_break_keeps_its_value() -> None:
    """Generated objects follow the last document: its `|` scalar must not take their line break into its value."""
    deployment = _text().split("---\n# Source: shop/templates/tests/")[0]
    text = deployment + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: script\ndata:\n  run.sh: |\n    echo hi"
    out, result = helm.post_render(text, run.resolve_profile("restricted"), generate_=True)
    assert result.generated, "nothing generated: nothing follows the scalar, the test proves nothing"
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert [d for d in docs if d["kind"] == "ConfigMap"][0]["data"]["run.sh"] == "echo hi"
    assert len(docs) == len([d for d in yaml.safe_load_all(text) if d]) + len(result.generated)
