"""Directory runs over real repositories (issue 21, items 1 and 2): what is skipped, what is broken, where `-o`
writes. Each test builds a small repository of the shapes the issue met in cloned third-party projects."""

from __future__ import annotations

import os
import subprocess

import yaml

from tests.conftest import DEPLOYMENT
from tests.integration_helpers import kharden, tool

KUSTOMIZATION = "resources:\n- deploy.yaml\n"  # no apiVersion: kustomize accepts it
PATCH_LIST = "- op: replace\n  path: /spec/replicas\n  value: 3\n"
WORKFLOW = "name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n"
SNIPPET = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
DUPLICATE = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: '1'\n  a: '2'\n"
VALUE_TAG = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\n"
             "spec:\n  default: !!value x\n")


def _tree(root: str, files: dict[str, str]) -> str:
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    return root


def _repo(tmp_path: str) -> str:
    return _tree(os.path.join(str(tmp_path), "repo"), {
        "base/deploy.yaml": DEPLOYMENT,
        "base/kustomization.yml": KUSTOMIZATION,
        "overlays/prod/kustomization.yml": KUSTOMIZATION,
        "overlays/prod/patch.yaml": PATCH_LIST,
        ".github/workflows/ci.yaml": WORKFLOW,
        "docs/snippet.yaml": SNIPPET,
        "other/deploy.yaml": DEPLOYMENT.replace("name: web", "name: other", 1),
    })


def test_non_manifests_and_templates_are_skipped_and_counted(tmp_path: str) -> None:
    repo = _repo(tmp_path)
    out = os.path.join(str(tmp_path), "out")
    done = kharden("fix", "-q", "-o", out, repo)
    assert done.returncode == 0, done.stderr
    assert "4 file(s) skipped" in done.stderr and "-v lists them" in done.stderr
    assert "unrendered template" in done.stderr
    listed = kharden("fix", "-q", "-v", "-o", out, repo).stderr
    for rel in ("base/kustomization.yml", "overlays/prod/patch.yaml", "docs/snippet.yaml"):
        assert os.path.join(repo, rel) in listed
    assert ".github" not in listed  # hidden directories are not walked at all


def test_o_mirrors_the_tree_relative_to_each_argument(tmp_path: str) -> None:
    repo = _repo(tmp_path)
    out = os.path.join(str(tmp_path), "out")
    assert kharden("fix", "-q", "-o", out, repo).returncode == 0
    for rel in ("base/deploy.yaml", "other/deploy.yaml"):  # flattened, one overwrote the other
        written = list(yaml.safe_load_all(open(os.path.join(out, rel))))
        assert written[0]["spec"]["template"]["spec"]["containers"][0]["securityContext"], rel
    names = {yaml.safe_load(open(os.path.join(out, r)))["metadata"]["name"] for r in ("base/deploy.yaml",
                                                                                    "other/deploy.yaml")}
    assert len(names) == 2


def test_o_collision_is_an_error_before_anything_is_written(tmp_path: str) -> None:
    repo = _repo(tmp_path)
    out = os.path.join(str(tmp_path), "out")
    done = kharden("fix", "-o", out, os.path.join(repo, "base", "deploy.yaml"), os.path.join(repo, "other",
                                                                                               "deploy.yaml"))
    assert done.returncode == 2 and "would both be written to" in done.stderr
    assert not os.path.exists(out)


def test_stdin_never_becomes_a_file_named_dash(tmp_path: str) -> None:
    out = os.path.join(str(tmp_path), "out")
    done = kharden("fix", "-o", out, "-", stdin=DEPLOYMENT)
    assert done.returncode == 2 and "stdin" in done.stderr
    assert not os.path.exists(os.path.join(out, "-"))


def test_stdin_that_is_no_manifest_says_so() -> None:
    done = kharden("fix", "-", stdin="foo: bar\n")
    assert done.returncode == 2
    assert "not a Kubernetes manifest" in done.stderr and "apiVersion is missing" not in done.stderr


def test_a_broken_file_is_reported_and_every_other_file_written(tmp_path: str) -> None:
    repo = _tree(os.path.join(str(tmp_path), "repo"), {
        "a/deploy.yaml": DEPLOYMENT, "b/dup.yaml": DUPLICATE, "c/crd.yaml": VALUE_TAG,
        "d/deploy.yaml": DEPLOYMENT.replace("name: web", "name: d", 1),
    })
    out = os.path.join(str(tmp_path), "out")
    done = kharden("fix", "-q", "-o", out, repo)
    assert done.returncode == 2
    assert f"{os.path.join(repo, 'b', 'dup.yaml')}:7:3 document 1" in done.stderr  # file, line, column, document
    assert os.path.join(repo, "c", "crd.yaml") in done.stderr
    assert os.path.isfile(os.path.join(out, "a", "deploy.yaml")) and os.path.isfile(os.path.join(out, "d",
                                                                                                 "deploy.yaml"))
    assert not os.path.exists(os.path.join(out, "b", "dup.yaml"))


def test_in_place_rewrites_the_good_files_and_leaves_the_broken_one(tmp_path: str) -> None:
    repo = _tree(os.path.join(str(tmp_path), "repo"), {"a.yaml": DEPLOYMENT, "dup.yaml": DUPLICATE})
    done = kharden("fix", "-q", "-i", "--no-generate", repo)
    assert done.returncode == 2
    assert open(os.path.join(repo, "a.yaml")).read() != DEPLOYMENT
    assert open(os.path.join(repo, "dup.yaml")).read() == DUPLICATE


def test_a_helm_chart_directory_points_to_the_post_renderer(tmp_path: str) -> None:
    repo = _tree(os.path.join(str(tmp_path), "repo"), {
        "chart/Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
        "chart/values.yaml": "replicas: 1\n",
        "chart/templates/deploy.yaml": SNIPPET,
        "deploy.yaml": DEPLOYMENT,
    })
    done = kharden("fix", "-q", "-o", os.path.join(str(tmp_path), "out"), repo)
    assert done.returncode == 0, done.stderr
    assert f"{os.path.join(repo, 'chart')}: a Helm chart" in done.stderr and "--post-renderer" in done.stderr


def test_gitignored_and_excluded_paths_are_left_out(tmp_path: str) -> None:
    git = tool("git")
    repo = _tree(os.path.join(str(tmp_path), "repo"), {
        ".gitignore": "build/\n", "build/deploy.yaml": DUPLICATE, "vendor/x/deploy.yaml": DUPLICATE,
        "app/deploy.yaml": DEPLOYMENT,
    })
    subprocess.run([git, "init", "-q", repo], check=True)
    done = kharden("fix", "-q", "--exclude", "vendor", "-o", os.path.join(str(tmp_path), "out"), repo)
    assert done.returncode == 0, done.stderr
    assert os.path.isfile(os.path.join(str(tmp_path), "out", "app", "deploy.yaml"))
    checked = kharden("check", "--exclude", "vendor/*", repo)
    assert checked.returncode == 1 and "duplicate key" not in checked.stderr, checked.stderr


def test_check_skips_what_is_no_manifest_and_reports_the_broken(tmp_path: str) -> None:
    repo = _repo(tmp_path)
    _tree(repo, {"bad/dup.yaml": DUPLICATE})
    done = kharden("check", repo)
    assert done.returncode == 2, done.stderr
    assert "duplicate key" in done.stderr and "apiVersion is missing" not in done.stderr
    assert "file(s) skipped" in done.stderr
    assert "pss." in done.stdout  # the good files were still checked
