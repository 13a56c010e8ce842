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


def _try(hooks_repo: str, project: str, home: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": home}
    if sys.version_info < (3, 12):  # virtualenv seeds setuptools there: build without isolation, twice as fast
        env["PIP_NO_BUILD_ISOLATION"] = "0"  # pip reads "0" as: isolation off
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", hooks_repo, "--files", "workloads.yaml",
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
