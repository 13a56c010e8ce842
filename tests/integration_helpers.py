"""Helpers for the integration tests: real tools (skipped with a reason when absent) and object comparison."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(REPO, "tests", "data", "app")
PROFILE = "restricted"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found: this test runs the real {name}")
    return path


def kharden(*args: str, stdin: str | None = None, cwd: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `python -m kharden` from this checkout, as a user would."""
    full_env = {**os.environ, "PYTHONPATH": REPO, **(env or {})}
    return subprocess.run([sys.executable, "-m", "kharden", *args], input=stdin, capture_output=True, text=True,
                          cwd=cwd, env=full_env, timeout=60)


def objects(stream: str) -> list[dict[str, Any]]:
    """The objects of a YAML stream, sorted by identity, so that order and formatting do not matter."""
    docs = [d for d in yaml.safe_load_all(stream) if d]
    return sorted(docs, key=identity)


def identity(o: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = o.get("metadata") or {}
    return (o.get("apiVersion", ""), o.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


def fixed_objects(*paths: str, profile: str = PROFILE, generate: bool | None = None) -> list[dict[str, Any]]:
    """What `kharden fix` gives for these paths: the reference every integration must agree with."""
    from kharden import run

    return objects(run.fix(list(paths), profile, generate=generate).stream())
