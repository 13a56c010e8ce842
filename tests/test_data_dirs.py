"""A persistent volume mounted right at PGDATA (kharden.know.datadirs): kharden makes postgres run as uid 999, which
a fresh, root-owned mount point at PGDATA cannot take; a warning names the risk and the fix, and the manifest kharden
writes is the same with or without it. The runtime proof: tests/test_runtime_claims.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from kharden.images.catalog import CatalogError, validate
from kharden.errors import KhardenError
from kharden.read import parse_text
from kharden.read.source import read_source
from kharden.run import fix_sources
from kharden.tree.discover import discover

CORPUS_APPS = Path(__file__).parents[1].parent / "shared" / "corpus" / "apps"

# The shape of the StatefulSet most postgres-on-Kubernetes guides give (a claim template mounted at PGDATA).
STATEFULSET = """\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: postgres
  namespace: db
spec:
  serviceName: postgres
  replicas: 1
  selector:
    matchLabels:
      app: postgres
  template:
    metadata:
      labels:
        app: postgres
    spec:
      containers:
        - name: postgres
          image: {image}
          ports:
            - containerPort: 5432
          env:
            - name: POSTGRES_PASSWORD
              valueFrom:
                secretKeyRef: {{name: postgres, key: password}}{env}
          volumeMounts:
            - name: data
              mountPath: {mount}{sub}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        resources:
          requests:
            storage: 10Gi
"""
PGDATA_ENV = "\n            - name: PGDATA\n              value: {}"


def _findings(image: str = "postgres:16", mount: str = "/var/lib/postgresql/data", env: str = "",
              sub: str = "") -> list[str]:
    text = STATEFULSET.format(image=image, mount=mount, env=env and PGDATA_ENV.format(env),
                              sub=sub and f"\n              subPath: {sub}")
    outcome = fix_sources([parse_text(text, "postgres.yaml")], "restricted", generate=False)
    return [f.message for f in outcome.result.findings if f.rule == "kharden.data-dir"]


def test_a_claim_at_pgdata_is_warned_with_the_fix() -> None:
    [message] = _findings()
    assert "data is mounted right at PGDATA (/var/lib/postgresql/data)" in message
    assert "running as uid 999" in message
    assert "PGDATA to a subdirectory of the mount (e.g. /var/lib/postgresql/data/pgdata)" in message
    assert "A subPath does not help" in message


@pytest.mark.parametrize("image, mount, env, sub, warned", [
    ("postgres:16", "/var/lib/postgresql/data", "/var/lib/postgresql/data/pgdata", "", False),  # the fix
    ("postgres:16", "/var/lib/postgresql/data/", "", "pgdata", True),  # subPath: the kubelet makes it root's
    ("postgres:16", "/srv/pg", "/srv/pg", "", True),  # PGDATA where the env puts it
    ("postgres:16-alpine", "/var/lib/postgresql/data", "", "", True),
    ("postgres:18", "/var/lib/postgresql", "", "", False),  # 18's own layout: PGDATA is a subdirectory
    ("postgres:18", "/var/lib/postgresql/18/docker", "", "", True),
    ("redis:7.2", "/var/lib/postgresql/data", "", "", False),  # not an image with a data directory it must own
])
def test_where_the_claim_is_mounted(image: str, mount: str, env: str, sub: str, warned: bool) -> None:
    assert bool(_findings(image, mount, env, sub)) is warned


def test_an_empty_dir_at_pgdata_is_no_claim() -> None:
    text = STATEFULSET.format(image="postgres:16", mount="/var/lib/postgresql/data", env="", sub="")
    text = text.replace("  volumeClaimTemplates:", "      volumes: [{name: data, emptyDir: {}}]\n  x-unused:")
    outcome = fix_sources([parse_text(text, "postgres.yaml")], "restricted", generate=False)
    assert not [f for f in outcome.result.findings if f.rule == "kharden.data-dir"]


def test_the_warning_changes_nothing_kharden_writes() -> None:
    text = STATEFULSET.format(image="postgres:16", mount="/var/lib/postgresql/data", env="", sub="")
    with_claim = fix_sources([parse_text(text, "a.yaml")], "restricted", generate=False).stream()
    fixed = PGDATA_ENV.format("/var/lib/postgresql/data/pgdata")
    with_env = STATEFULSET.format(image="postgres:16", mount="/var/lib/postgresql/data", env=fixed, sub="")
    after = fix_sources([parse_text(with_env, "a.yaml")], "restricted", generate=False).stream()
    assert with_claim == after.replace(fixed, "")


def test_no_corpus_workload_is_warned() -> None:
    """No false alarm on the third-party workloads (MySQL, Cassandra, CockroachDB, MinIO, Redis with their
    claims); each file on its own, as `fix` hardens it."""
    if not CORPUS_APPS.is_dir():
        pytest.skip(f"the shared corpus is missing: {CORPUS_APPS}")
    warned, hardened = [], 0
    for path in discover([str(CORPUS_APPS)]).paths:
        try:
            outcome = fix_sources([read_source(path)], "restricted", generate=False)
        except KhardenError:  # a file kharden refuses is another test's business
            continue
        hardened += 1
        warned += [f.message for f in outcome.result.findings if f.rule == "kharden.data-dir"]
    assert hardened > 50 and warned == []


def test_the_catalog_refuses_a_relative_data_dir() -> None:
    entry = {"family": "x", "images": ["docker.io/library/x"], "source": "s", "dataDir": {"path": "var/x"}}
    with pytest.raises(CatalogError, match="dataDir"):
        validate(entry)
