"""A non-editable install ships the built-in profiles inside the package and runs from anywhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


def _source_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's sources in a directory of this process's own.

    setuptools builds in the source tree's build/ directory: two pytest-xdist workers building the repository itself
    at once collided there ("File exists: build/bdist.linux-x86_64/wheel/kharden-0.1.0.dist-info"). xdist_group
    cannot keep them on one worker with pytest 9.2 (pytest-xdist issue 1386: loadgroup silently stops grouping).
    """
    where = tmp_path_factory.mktemp("source") / "kharden"
    shutil.copytree(REPO, where, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".checkov", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "tests"))
    return where


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, source = tmp_path_factory.mktemp("wheel"), _source_copy(tmp_path_factory)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (found,) = out.glob("kharden-*.whl")
    return found


def test_wheel_contains_the_builtin_profiles(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    profiles = sorted(p.name for p in (REPO / "profiles").glob("*.yaml"))
    assert profiles, "no profiles in the repository"
    for name in profiles:
        assert f"kharden/profiles/{name}" in names


def test_installed_package_runs_outside_the_repository(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    manifest = tmp_path / "pod.yaml"
    manifest.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n")
    env = {**os.environ, "PYTHONPATH": str(site)}
    proc = subprocess.run(
        [sys.executable, "-m", "kharden", "fix", "--profile", "restricted", str(manifest)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "runAsNonRoot: true" in proc.stdout
    where = subprocess.run(
        [sys.executable, "-c", "import kharden; print(kharden.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    ).stdout
    assert where.startswith(str(site)), "the test must exercise the installed copy, not the checkout"
