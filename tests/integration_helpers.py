"""Helpers for the integration tests: real tools (skipped with a reason when absent) and object comparison."""

from __future__ import annotations

import json
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


class _Loader(yaml.SafeLoader):
    """Timestamps stay strings: the API server reads them as strings, and kustomize quotes them on output."""


_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def objects(stream: str) -> list[dict[str, Any]]:
    """The objects of a YAML stream, sorted by identity, so that order and formatting do not matter."""
    docs = [d for d in yaml.load_all(stream, Loader=_Loader) if isinstance(d, dict) and d]
    return sorted(docs, key=lambda o: (identity(o), json.dumps(o, sort_keys=True, default=str)))


def identity(o: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = o.get("metadata") or {}
    return (o.get("apiVersion", ""), o.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))


def fixed_objects(*paths: str, profile: str = PROFILE, generate: bool | None = None) -> list[dict[str, Any]]:
    """What `kharden fix` gives for these paths: the reference every integration must agree with."""
    from kharden import run

    return objects(run.fix(list(paths), profile, generate=generate).stream())
