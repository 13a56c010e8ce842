"""Shared test helpers: where the third-party corpus is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("KHARDEN_CORPUS", REPO.parent / "shared" / "corpus"))


# The smallest Deployment kharden hardens: one container, no security settings.
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: nginx
"""


def corpus_files() -> list[Path]:
    """Every manifest of the corpus (YAML and JSON), sorted."""
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file())


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS} (set KHARDEN_CORPUS)")
    return CORPUS
