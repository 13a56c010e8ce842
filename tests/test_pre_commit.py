"""pre-commit hooks, run by the real `pre-commit try-repo` in a temporary git repository.

pre-commit pip-installs kharden from the hook repository into a fresh virtualenv on every try-repo (PyPI must be
reachable for kharden's dependencies, or pip's cache warm; about 12 s a run without build isolation). The hook
repository is a snapshot of this working tree (tracked and new files), committed: what a user's `rev:` points at.
Each run tries all hooks of the repository, in the order of .pre-commit-hooks.yaml: check, then fix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration_helpers import APP, REPO, tool

GIT_ID = ["-c", "user.email=test@example.invalid", "-c", "user.name=test"]


def _git(*args: str, cwd: str) -> str:
    done = subprocess.run(["git", *GIT_ID, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _snapshot(dest: str) -> str:
    """This working tree as a clean one-commit repository (what a user's `rev:` would point at)."""
    files = _git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=REPO).split("\0")
    for rel in filter(None, files):
        src = os.path.join(REPO, rel)
        if os.path.isfile(src) and not rel.startswith(("tests/", "docs/")):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)) or dest, exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest


@pytest.fixture(scope="module")
def hooks_repo(tmp_path_factory: pytest.TempPathFactory) -> str:
    tool("git")
    return _snapshot(str(tmp_path_factory.mktemp("hooks-repo")))


def _try(hooks_repo: str, project: str, home: str, files: tuple[str, ...] = ("--files", "workloads.yaml")
         ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": home}
    if sys.version_info < (3, 12):  # virtualenv seeds setuptools there: build without isolation, twice as fast
        env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip reads "0" as: isolation off
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", hooks_repo, *files,
                           "--color", "never"], cwd=project, capture_output=True, text=True, env=env, timeout=300)


def _status(out: str, hook: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith(hook + "."))
    return line.rsplit(".", 1)[1]


def test_check_and_fix_hooks(hooks_repo: str, tmp_path: str) -> None:
    project = str(tmp_path / "project")
    os.makedirs(project)
    shutil.copy(os.path.join(APP, "workloads.yaml"), project)
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    _git("commit", "-q", "-m", "app", cwd=project)
    home = str(tmp_path / "pre-commit-home")
    original = open(os.path.join(project, "workloads.yaml")).read()

    first = _try(hooks_repo, project, home)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out
    assert _status(out, "kharden check") == "Failed" and "pss.runAsNonRoot" in out
    assert _status(out, "kharden fix") == "Failed", out
    assert open(os.path.join(project, "workloads.yaml")).read() != original, out
    second = _try(hooks_repo, project, home)
    out = second.stdout + second.stderr
    assert second.returncode == 0, out
    assert _status(out, "kharden check") == "Passed" and _status(out, "kharden fix") == "Passed"


def test_hooks_on_a_real_repository_as_it_is(hooks_repo: str, tmp_path: str, corpus: Path) -> None:
    """Issue 21: the hooks (files: every *.yaml/*.json) failed with exit 2 on any repository with a CI workflow or a
    values.yaml. On a corpus project plus those, --all-files: violations and changes, never an input error."""
    project = str(tmp_path / "project")
    shutil.copytree(corpus / "apps" / "kubernetes-examples", project)
    extra = {".github/workflows/ci.yaml": "name: ci\non: [push]\njobs: {t: {runs-on: ubuntu-latest, steps: []}}\n",
             "values.yaml": "replicaCount: 1\nimage: {repository: nginx}\n",
             "kustomization.yml": "resources:\n- web/guestbook/redis-master-deployment.yaml\n"}
    for rel, text in extra.items():
        os.makedirs(os.path.dirname(os.path.join(project, rel)) or project, exist_ok=True)
        with open(os.path.join(project, rel), "w") as f:
            f.write(text)
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    _git("commit", "-q", "-m", "app", cwd=project)
    done = _try(hooks_repo, project, str(tmp_path / "pre-commit-home"), ("--all-files",))
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "kharden: error" not in out and "exit code: 2" not in out, out
    assert "file(s) skipped" in out, out
    assert _status(out, "kharden fix") == "Failed"  # it changed files
    assert "allowPrivilegeEscalation: false" in open(os.path.join(project, "web", "guestbook", "redis-master-deployment.yaml")).read()
