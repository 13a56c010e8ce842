"""The generated objects name input files relative to where they are written (kharden.tree.naming): `fix -i` of
one directory, spelled absolute or relative, writes the same bytes; so do `-o DIR` and stdout."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kharden.tree.naming import relative_names, rename
from tests.integration_helpers import kharden

REPO = Path(__file__).parents[1]
SAMPLES = REPO / "samples"
BOUTIQUE = REPO.parent / "shared" / "corpus" / "apps" / "microservices-demo" / "release" / "kubernetes-manifests.yaml"
PROFILE = """\
extends: restricted
generators:
  rbac: {enabled: true}
  networkPolicies: {enabled: true, apiServerCIDR: "10.0.0.1/32"}
"""
ACCESS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: op
  namespace: ops
  annotations:
    kharden.dev/access: "get,list,watch pods"
spec:
  selector:
    matchLabels: {app: op}
  template:
    metadata:
      labels: {app: op}
    spec:
      containers:
      - name: op
        image: ghcr.io/example/op:1.0
"""


def _tree(root: Path) -> Path:
    """The samples, Online Boutique (corpus) and a workload declaring its API access, in one directory."""
    tree = root / "tree"
    shutil.copytree(SAMPLES, tree)
    if not BOUTIQUE.is_file():
        pytest.skip(f"the shared corpus is missing: {BOUTIQUE}")
    (tree / "boutique").mkdir()
    shutil.copyfile(BOUTIQUE, tree / "boutique" / BOUTIQUE.name)
    (tree / "ops").mkdir()
    (tree / "ops" / "operator.yaml").write_text(ACCESS, encoding="utf-8")
    (root / "profile.yaml").write_text(PROFILE, encoding="utf-8")
    return tree


def _files(tree: Path) -> dict[str, bytes]:
    return {str(p.relative_to(tree)): p.read_bytes() for p in sorted(tree.rglob("*")) if p.is_file()}


def test_fix_in_place_absolute_then_relative_changes_nothing(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    profile = str(tmp_path / "profile.yaml")
    first = kharden("fix", "-i", "--profile", profile, str(tree))
    assert first.returncode == 0, first.stderr
    after_first = _files(tree)
    generated = after_first["kharden-generated.yaml"].decode()
    assert "(boutique/kubernetes-manifests.yaml)" in generated  # the policies' reasons
    assert "(ops/operator.yaml:7)" in generated  # the RBAC rule's source
    assert str(tmp_path) not in generated
    for spelling, cwd in ((".", tree), ("./tree/", tmp_path), ("tree", tmp_path)):
        again = kharden("fix", "-i", "--profile", profile, spelling, cwd=str(cwd))
        assert again.returncode == 0, again.stderr
        assert _files(tree) == after_first, spelling


def test_output_dir_and_stdout_do_not_depend_on_the_spelling(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    profile = str(tmp_path / "profile.yaml")
    kharden("fix", "--profile", profile, "-o", str(tmp_path / "out1"), str(tree))
    kharden("fix", "--profile", profile, "-o", "out2", "./tree", cwd=str(tmp_path))
    assert _files(tmp_path / "out1") == _files(tmp_path / "out2")
    assert "(boutique/kubernetes-manifests.yaml)" in (tmp_path / "out1" / "kharden-generated.yaml").read_text()
    absolute = kharden("fix", "--profile", profile, str(tree / "ops" / "operator.yaml"), cwd=str(tmp_path))
    relative = kharden("fix", "--profile", profile, "./tree/ops/../ops/operator.yaml", cwd=str(tmp_path))
    assert absolute.returncode == relative.returncode == 0, absolute.stderr + relative.stderr
    assert absolute.stdout == relative.stdout
    assert "(tree/ops/operator.yaml:7)" in absolute.stdout  # relative to the working directory


def test_relative_names() -> None:
    assert relative_names(["/r/a.yaml", "/r/sub/b.yaml", "/q/c.yaml", "-"], "/r") == {
        "/r/a.yaml": "a.yaml", "/r/sub/b.yaml": "sub/b.yaml", "/q/c.yaml": "../q/c.yaml"}
    assert relative_names(["./a.yaml"], ".") == {"./a.yaml": "a.yaml"}
    assert relative_names(["a.yaml"], ".") == {}
    assert relative_names(["in/a.yaml"], "/out", {"in/a.yaml": "/out/a.yaml"}) == {"in/a.yaml": "a.yaml"}


def test_rename_touches_whole_paths_in_kharden_annotations_only() -> None:
    obj = {"metadata": {"annotations": {
        "kharden.dev/why": "x (/r/a.yaml)\ny (/r/a.yaml:7) z /r/a.yaml.bak /r/a.yamlx /q/r/a.yaml",
        "other.io/note": "(/r/a.yaml)",
    }}}
    rename([obj, {"metadata": None}, {}], {"/r/a.yaml": "a.yaml"})
    assert obj["metadata"]["annotations"] == {
        "kharden.dev/why": "x (a.yaml)\ny (a.yaml:7) z /r/a.yaml.bak /r/a.yamlx /q/r/a.yaml",
        "other.io/note": "(/r/a.yaml)",
    }
