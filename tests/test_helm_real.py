"""The post-renderer under a real Helm 3 and Helm 4, on the chart `helm create` makes (Helm's own starter chart).

tests/test_helm.py checks the contract on Helm-shaped input; this runs `helm template` itself, the way users wire
kharden in: Helm 3 runs `kharden helm-post-render` as an executable, Helm 4 the plugin in integrations/helm-plugin/.
The Helm binaries come from the test extras (see pyproject.toml), or a `helm` on PATH.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration_helpers import REPO, helm, identity, kharden, objects

PLUGIN = os.path.join(REPO, "integrations", "helm-plugin")
BROKEN_POD = """apiVersion: v1
kind: Pod
metadata:
  name: broken
spec:
  containers: not-a-list
"""


@pytest.fixture(scope="module", params=[3, 4], ids=["helm3", "helm4"])
def setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, list[str], dict[str, str], Path]:
    """(major, the `helm template` command up to its post-renderer flags, environment, chart directory)."""
    major: int = request.param
    home = tmp_path_factory.mktemp(f"helm{major}")
    binary = helm(major, str(tmp_path_factory.getbasetemp() / "helm-binaries"))
    env = {
        **os.environ,
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_DATA_HOME": str(home / "data"),
        "PYTHONPATH": REPO,
        "KHARDEN": f"{sys.executable} -m kharden",  # what the Helm 4 plugin runs
    }
    env.pop("HELM_PLUGINS", None)
    subprocess.run([binary, "create", "shop"], cwd=home, env=env, check=True, capture_output=True, timeout=60)
    if major == 3:
        post = ["--post-renderer", _kharden_executable(home), "--post-renderer-args", "helm-post-render"]
    else:
        done = subprocess.run([binary, "plugin", "install", PLUGIN], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        post = ["--post-renderer", "kharden"]
    return major, [binary, "template", "shop", str(home / "shop"), *post], env, home / "shop"


def _kharden_executable(where: Path) -> str:
    """Helm 3 runs one executable with the args it is given: a launcher for this checkout's kharden."""
    script = where / "kharden"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kharden "$@"\n')
    script.chmod(0o755)
    return str(script)


def _template(setup: Any, *extra: str, post: bool = True) -> subprocess.CompletedProcess[str]:
    major, command, env, chart = setup
    if not post:
        command = command[: command.index("--post-renderer")]
    return subprocess.run([*command, *extra], env=env, capture_output=True, text=True, timeout=120)


def test_the_rendered_chart_comes_out_hardened_with_its_network_policies(setup: Any) -> None:
    major = setup[0]
    plain = _template(setup, post=False)
    done = _template(setup)
    assert plain.returncode == 0 and done.returncode == 0, done.stderr
    out = done.stdout
    before = {identity(o): o for o in objects(plain.stdout)}
    after = {identity(o): o for o in objects(out)}
    generated = {k: o for k, o in after.items() if k not in before}
    assert before.keys() <= after.keys()
    assert after[("v1", "Service", "", "shop")] == before[("v1", "Service", "", "shop")]  # not a pod: untouched
    deployment = after[("apps/v1", "Deployment", "", "shop")]["spec"]["template"]["spec"]
    assert deployment["securityContext"]["runAsNonRoot"] is True
    assert deployment["containers"][0]["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert all(o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kharden" for o in generated.values())
    policies = {k[3] for k in generated if k[1] == "NetworkPolicy"}
    assert {"default-deny", "allow-dns"} <= policies
    report = kharden("check", "--pss", "restricted", "-", stdin=out)
    hook = ("v1", "Pod", "", "shop-test-connection")
    if major == 3:
        # Helm 3 never passes hooks to a post-renderer: the test hook comes out as the chart renders it, the only
        # object the restricted standard still finds fault with; nothing derived from it is generated.
        assert after[hook] == before[hook]
        flagged = {line.split(": ")[1] for line in report.stdout.splitlines() if line.startswith("-:")}
        assert report.returncode == 1 and flagged == {"Pod/shop-test-connection"}, report.stdout
        assert not [p for p in policies if "test-connection" in p]
        # Every line Helm rendered survives, in order: kharden only adds lines to these documents.
        lines = iter(out.splitlines())
        assert all(any(line == got for got in lines) for line in plain.stdout.splitlines() if line.strip())
        assert out.count("# Source: kharden/generated.yaml") == len(generated)
    else:
        # Helm 4 passes hooks too; the test hook (`wget shop:80`) may still reach the release under the
        # default-deny. Helm 4 re-serializes what a post-renderer returns (it files objects by their annotation),
        # so objects, not lines, are compared; it writes each generated object's `# Source:` line itself.
        assert report.returncode == 0, report.stdout + report.stderr
        assert {"shop-ingress", "shop-test-connection-egress"} <= policies
        assert out.count("# Source: kharden-generated.yaml") == len(generated)
        assert "# Source: kharden/generated.yaml" not in out


def test_post_renderer_args_choose_the_profile(setup: Any) -> None:
    major = setup[0]
    args = ["--post-renderer-args", "--profile=baseline"]
    if major == 3:  # Helm 3 passes its args to the executable: the subcommand first
        args = ["--post-renderer-args", "helm-post-render", *args]
        setup = (setup[0], setup[1][: setup[1].index("--post-renderer-args")], *setup[2:])
    done = _template(setup, *args)
    assert done.returncode == 0, done.stderr
    after = {identity(o): o for o in objects(done.stdout)}
    pod = after[("apps/v1", "Deployment", "", "shop")]["spec"]["template"]["spec"]
    assert pod["securityContext"] == {"seccompProfile": {"type": "RuntimeDefault"}}  # baseline adds only this...
    assert "runAsNonRoot" not in str(pod) and not [k for k in after if k[1] == "NetworkPolicy"]  # ...not these


def test_a_chart_kharden_cannot_read_fails_the_render_with_kharden_s_message(setup: Any, tmp_path: Path) -> None:
    """Helm 4 drops a post-renderer plugin's stderr; the plugin also writes kharden's message to KHARDEN_LOG."""
    major, command, env, chart = setup
    log = tmp_path / "kharden.log"
    broken = chart / "templates" / "broken.yaml"
    broken.write_text(BROKEN_POD)
    try:
        done = subprocess.run(command, env={**env, "KHARDEN_LOG": str(log)}, capture_output=True, text=True,
                              timeout=120)
    finally:
        broken.unlink()
    assert done.returncode != 0
    assert "kind: Deployment" not in done.stdout  # nothing half-rendered is installed
    message = "Pod/broken: spec.containers must be a list, not a string"
    if major == 3:
        assert message in done.stderr, done.stderr
    else:
        assert 'plugin "kharden" exited with error' in done.stderr
        assert message in log.read_text()
