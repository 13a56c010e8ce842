"""`kharden fix --format kustomize -o DIR`: the real `kubectl kustomize DIR` must give what `kharden fix` gives."""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from tests.integration_helpers import APP, fixed_objects, kharden, objects, tool


def _build(directory: str) -> str:
    kubectl = tool("kubectl")
    done = subprocess.run([kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", directory],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _vendored(tmp_path: str) -> tuple[str, str]:
    repo = os.path.join(tmp_path, "repo")
    shutil.copytree(APP, os.path.join(repo, "vendor", "app"))
    return repo, os.path.join(repo, "vendor", "app")


def test_overlay_builds_to_the_fixed_objects_and_leaves_the_originals_alone(tmp_path: str) -> None:
    repo, vendor = _vendored(str(tmp_path))
    before = {f: open(os.path.join(vendor, f)).read() for f in os.listdir(vendor)}
    done = kharden("fix", "-q", "--no-generate", "--format", "kustomize", "-o", "overlays/hardened", "vendor/app",
                   cwd=repo)
    assert done.returncode == 0, done.stderr
    assert {f: open(os.path.join(vendor, f)).read() for f in os.listdir(vendor)} == before
    kustomization = yaml.safe_load(open(os.path.join(repo, "overlays/hardened/kustomization.yaml")))
    assert kustomization["resources"] == ["../../vendor/app/cron.yaml", "../../vendor/app/workloads.yaml"]
    assert objects(_build(os.path.join(repo, "overlays/hardened"))) == fixed_objects(vendor, generate=False)


def test_overlay_with_generated_objects(tmp_path: str) -> None:
    repo, vendor = _vendored(str(tmp_path))
    done = kharden("fix", "-q", "--generate", "--format", "kustomize", "-o", "overlay", "vendor/app", cwd=repo)
    assert done.returncode == 0, done.stderr
    want = fixed_objects(vendor, generate=True)
    assert len(want) > len(fixed_objects(vendor, generate=False)), "the generators made nothing: the test proves little"
    assert objects(_build(os.path.join(repo, "overlay"))) == want


def test_each_patch_operation_says_why(tmp_path: str) -> None:
    repo, _ = _vendored(str(tmp_path))
    kharden("fix", "-q", "--format", "kustomize", "-o", "overlay", "vendor/app", cwd=repo)
    text = open(os.path.join(repo, "overlay", "patches", "deployment-shop-web.yaml")).read()
    ops = yaml.safe_load(text)
    assert len([line for line in text.splitlines() if line.startswith("# ")]) == len(ops) + 1
    assert all(op["op"] in ("add", "replace", "remove") for op in ops)


def test_kustomize_format_needs_an_output_dir_and_files() -> None:
    assert "--output-dir" in kharden("fix", "--format", "kustomize", APP).stderr
    done = kharden("fix", "--format", "kustomize", "-o", "/tmp/never-written", "-", stdin="kind: Pod\n")
    assert done.returncode == 2 and "stdin" in done.stderr
