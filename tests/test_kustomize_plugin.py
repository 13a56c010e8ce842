"""kustomize exec plugin: installed where kustomize looks, run by the real `kubectl kustomize`."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import yaml

from kharden.errors import UsageError
from kharden.integrations import kustomize
from kharden.integrations.hardening import from_object
from tests.integration_helpers import APP, PROFILE, fixed_objects, kharden, objects, tool


def _kustomization(tmp_path: str, spec: dict[str, object]) -> str:
    app = os.path.join(tmp_path, "app")
    shutil.copytree(APP, app)
    config = {"apiVersion": "kharden.dev/v1", "kind": "Hardening", "metadata": {"name": "harden"}, "spec": spec}
    with open(os.path.join(app, "harden.yaml"), "w") as f:
        yaml.safe_dump(config, f)
    with open(os.path.join(app, "kustomization.yaml"), "w") as f:
        yaml.safe_dump({"resources": ["workloads.yaml", "cron.yaml"], "transformers": ["harden.yaml"]}, f)
    return app


def _build(tmp_path: str, app: str) -> subprocess.CompletedProcess[str]:
    kubectl = tool("kubectl")
    home = os.path.join(tmp_path, "plugins")
    installed = kharden("kustomize-plugin", "--install", home)
    assert installed.returncode == 0, installed.stderr
    assert installed.stdout.strip() == os.path.join(home, "kharden.dev/v1/hardening/Hardening")
    env = {**os.environ, "KUSTOMIZE_PLUGIN_HOME": home, "PYTHONPATH": ""}
    return subprocess.run([kubectl, "kustomize", "--enable-alpha-plugins", app], capture_output=True, text=True,
                          env=env, timeout=60)


def test_kubectl_kustomize_gives_the_objects_of_kharden_fix(tmp_path: str) -> None:
    app = _kustomization(str(tmp_path), {"profile": PROFILE})
    built = _build(str(tmp_path), app)
    assert built.returncode == 0, built.stderr
    want = fixed_objects(os.path.join(APP, "workloads.yaml"), os.path.join(APP, "cron.yaml"))
    assert objects(built.stdout) == want
    assert objects(built.stdout) != objects(open(os.path.join(APP, "workloads.yaml")).read() +
                                            "---\n" + open(os.path.join(APP, "cron.yaml")).read())


def test_enforce_fails_the_build_and_names_the_violation(tmp_path: str) -> None:
    app = _kustomization(str(tmp_path), {"profile": PROFILE, "enforce": True})
    built = _build(str(tmp_path), app)
    assert built.returncode != 0
    assert "pss.privileged" in built.stderr and built.stdout == ""


def test_relative_profile_path_is_relative_to_the_kustomization(tmp_path: str) -> None:
    app = _kustomization(str(tmp_path), {"profile": "profiles/mine.yaml"})
    os.makedirs(os.path.join(app, "profiles"))
    with open(os.path.join(app, "profiles", "mine.yaml"), "w") as f:
        f.write("extends: restricted\nmutators:\n  resources: {enabled: false}\n")
    built = _build(str(tmp_path), app)
    assert built.returncode == 0, built.stderr
    web = next(o for o in objects(built.stdout) if o["kind"] == "Deployment")
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert "resources" not in container and container["securityContext"]["allowPrivilegeEscalation"] is False


def test_default_plugin_home_follows_kustomize() -> None:
    assert kustomize.default_plugin_home({"KUSTOMIZE_PLUGIN_HOME": "/k", "XDG_CONFIG_HOME": "/x"}) == "/k"
    assert kustomize.default_plugin_home({"XDG_CONFIG_HOME": "/x"}) == "/x/kustomize/plugin"
    assert kustomize.default_plugin_home({}).endswith(os.path.join(".config", "kustomize", "plugin"))


@pytest.mark.parametrize("obj, message", [
    ({"apiVersion": "kharden.dev/v1", "kind": "Hardening", "spec": {"profil": "x"}}, "spec.profil: unknown option"),
    ({"apiVersion": "kharden.dev/v1", "kind": "Hardening", "spec": {"generate": "yes"}}, "expected bool"),
    ({"apiVersion": "v1", "kind": "Secret"}, "expected apiVersion kharden.dev/v1"),
    ({"apiVersion": "v1", "kind": "ConfigMap", "data": {"enforce": "maybe"}}, "expected true or false"),
])
def test_bad_config_names_the_key(obj: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        from_object(obj)


def test_configmap_config_reads_strings() -> None:
    config = from_object({"kind": "ConfigMap", "data": {"profile": "baseline", "generate": "true"}})
    assert (config.profile, config.generate, config.enforce) == ("baseline", True, False)


def test_plugin_without_config_is_a_usage_error() -> None:
    done = kharden("kustomize-plugin", stdin="")
    assert done.returncode == 2 and "--install" in done.stderr and done.stdout == ""


def test_generated_objects_come_out_of_the_build(tmp_path: str) -> None:
    app = _kustomization(str(tmp_path), {"profile": PROFILE, "generate": True})
    built = _build(str(tmp_path), app)
    assert built.returncode == 0, built.stderr
    want = fixed_objects(os.path.join(APP, "workloads.yaml"), os.path.join(APP, "cron.yaml"), generate=True)
    assert len(want) > 4 and objects(built.stdout) == want
