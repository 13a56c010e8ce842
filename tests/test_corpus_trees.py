"""Done-when of issue 21: every project of the corpus's `apps/`, as the directory it is, runs whole.

`fix -o OUT DIR`, `fix -i` (on a copy), `check DIR` and the commands the pre-commit hooks run (every file matching
their `files:` pattern, named on the command line) skip what is not a manifest, report what is broken (exit 2,
file and line), and write every Kubernetes object of every other file. What counts as a manifest and which objects
a file holds are judged here by PyYAML alone, independently of kharden.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import CORPUS
from tests.integration_helpers import REPO

APPS = sorted(p.name for p in (CORPUS / "apps").iterdir()) if (CORPUS / "apps").is_dir() else []
SUFFIXES = (".yaml", ".yml", ".json")
ERROR = re.compile(r"^kharden: error: (.+?)(?::\d+(?::\d+)?)? (?:document \d+: )?.*$")


def _run(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kharden", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": REPO}, timeout=300)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def _identities(path: Path) -> list[tuple[str, str, str]] | None:
    """(kind, namespace, name) of each object, as PyYAML reads the file; None when it holds no object."""
    docs = list(yaml.load_all(path.read_text(), Loader=yaml.CSafeLoader))
    objs = [d for d in docs if isinstance(d, dict) and "apiVersion" in d and "kind" in d]
    if not objs:
        return None
    meta = [o.get("metadata") or {} for o in objs]
    return sorted((str(o["kind"]), str(m.get("namespace") or ""), str(m.get("name") or "")) for o, m in zip(objs, meta))


def _broken(stderr: str, cwd: str = ".") -> set[str]:
    """The files the run reported as broken; every error must name a file (and no traceback appear)."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    out = set()
    for line in stderr.splitlines():
        if line.startswith("kharden: error: "):
            m = ERROR.match(line)
            path = os.path.join(cwd, m.group(1).split(":")[0]) if m else ""
            assert m and os.path.isfile(path), line
            out.add(os.path.realpath(path))
    return out


@pytest.fixture(scope="module", params=APPS)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    src = CORPUS / "apps" / request.param
    out = tmp_path_factory.mktemp(request.param) / "out"
    done = _run("fix", "-q", "-o", str(out), str(src))
    return {"src": src, "out": out, "done": done, "broken": _broken(done.stderr)}


def test_fix_o_writes_every_object_of_every_readable_manifest(project: dict) -> None:
    src, out, done, broken = project["src"], project["out"], project["done"], project["broken"]
    assert done.returncode == (2 if broken else 0), done.stderr
    manifests = {p: ids for p in _files(src) if (ids := _identities(p)) is not None}
    skipped = len(_files(src)) - len(manifests)
    if skipped:
        assert f"{skipped} file(s) skipped" in done.stderr, done.stderr
    assert len(broken) <= 1, broken  # the corpus holds one file kharden refuses (argo-cd: a duplicate key)
    for path, ids in manifests.items():
        target = out / path.relative_to(src)
        if os.path.realpath(path) in broken:
            assert not target.exists()
            continue
        assert target.is_file(), target
        assert _identities(target) == ids, path


def test_fix_in_place_on_a_copy_gives_the_same_files(project: dict, tmp_path: Path) -> None:
    src, out = project["src"], project["out"]
    copy = tmp_path / "copy"
    shutil.copytree(src, copy)
    done = _run("fix", "-q", "-i", str(copy))
    assert done.returncode == project["done"].returncode, done.stderr
    assert {os.path.relpath(b, copy) for b in _broken(done.stderr)} == {
        os.path.relpath(b, os.path.realpath(src)) for b in project["broken"]}
    for path in _files(src):
        written = out / path.relative_to(src)
        if written.is_file():
            assert (copy / path.relative_to(src)).read_text() == written.read_text(), path


def test_check_runs_the_whole_tree(project: dict) -> None:
    done = _run("check", str(project["src"]))
    assert done.returncode in ((2,) if project["broken"] else (0, 1)), done.stderr
    assert _broken(done.stderr) <= project["broken"]
    src = project["src"]
    manifests = [p for p in _files(src) if _identities(p) is not None]
    assert f"in {len(manifests)} file(s)" in done.stderr  # every manifest checked (a broken object: the others)


def test_the_pre_commit_hooks_commands_on_every_file(project: dict, tmp_path: Path) -> None:
    """What .pre-commit-hooks.yaml runs (require_serial: every matching file in one call), on a copy."""
    hooks = yaml.safe_load(open(os.path.join(REPO, ".pre-commit-hooks.yaml")))
    copy = tmp_path / "copy"
    shutil.copytree(project["src"], copy)
    for hook in hooks:
        pattern = re.compile(hook["files"])
        files = sorted(str(p.relative_to(copy)) for p in copy.rglob("*") if p.is_file() and pattern.search(p.name))
        done = _run(*hook["entry"].split()[1:], *files, cwd=str(copy))
        assert done.returncode in ((2,) if project["broken"] else (0, 1)), (hook["id"], done.stderr)
        _broken(done.stderr, str(copy))
