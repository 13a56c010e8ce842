"""A persistent volume mounted right at PGDATA (kharden.know.datadirs): a fresh, root-owned mount point at PGDATA
cannot be taken by uid 999, so there kharden leaves postgres starting as root with the catalog's onClaim
capabilities (its entrypoint chowns PGDATA and steps down), and a warning says so and names the better layout.
Without such a claim, or with a uid the manifest pins, nothing changes. The runtime proof: tests/test_runtime_claims.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

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


def _text(image: str = "postgres:16", mount: str = "/var/lib/postgresql/data", env: str = "", sub: str = "",
          pod_sc: str = "") -> str:
    text = STATEFULSET.format(image=image, mount=mount, env=env and PGDATA_ENV.format(env),
                              sub=sub and f"\n              subPath: {sub}")
    return text.replace("    spec:\n      containers:", f"    spec:\n      securityContext: {pod_sc}\n      containers:") \
        if pod_sc else text


def _fix(text: str) -> Any:
    return fix_sources([parse_text(text, "postgres.yaml")], "restricted", generate=False)


def _findings(image: str = "postgres:16", mount: str = "/var/lib/postgresql/data", env: str = "",
              sub: str = "") -> list[str]:
    outcome = _fix(_text(image, mount, env, sub))
    return [f.message for f in outcome.result.findings if f.rule == "kharden.data-dir"]


def _security(outcome: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = yaml.safe_load(outcome.stream())["spec"]["template"]["spec"]
    return spec.get("securityContext") or {}, spec["containers"][0]["securityContext"]


def test_a_claim_at_pgdata_is_warned_with_the_fix() -> None:
    [message] = _findings()
    assert "data is mounted right at PGDATA (/var/lib/postgresql/data)" in message
    assert "kharden leaves it starting as root (no runAsUser, no runAsNonRoot: not PSS restricted)" in message
    assert "keeps CHOWN DAC_OVERRIDE SETUID SETGID beside drop ALL" in message
    assert "PGDATA to a subdirectory of the mount (e.g. /var/lib/postgresql/data/pgdata)" in message
    assert "kharden runs it as uid 999" in message
    assert "A subPath does not help" in message


def test_a_claim_at_pgdata_keeps_the_root_start_and_only_what_it_needs() -> None:
    outcome = _fix(_text())
    pod, container = _security(outcome)
    assert "runAsUser" not in pod and "runAsNonRoot" not in pod and "runAsGroup" not in pod
    assert "runAsUser" not in container and "runAsNonRoot" not in container
    assert container["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID"]}
    assert container["allowPrivilegeEscalation"] is False and container["readOnlyRootFilesystem"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    left = {f.rule for f in outcome.result.findings if f.status == "unfixed"}
    assert {"pss.runAsNonRoot", "pss.capabilities_restricted"} <= left  # not restricted: graded, not hidden
    reasons = {f.rule: f.reason for f in outcome.result.findings if f.status == "unfixed"}
    for rule in ("pss.runAsNonRoot", "pss.capabilities_restricted"):  # left for the entrypoint, and it says so
        assert reasons[rule] is not None and reasons[rule].startswith("the image's entrypoint must start as root")
    said = [f.message for f in outcome.result.findings if f.rule == "kharden.image" and f.severity == "warning"]
    assert any("must start as root" in m and "CHOWN DAC_OVERRIDE SETUID SETGID" in m for m in said)


def test_a_second_run_changes_nothing() -> None:
    once = _fix(_text()).stream()
    assert _fix(once).stream() == once


@pytest.mark.parametrize("env, pod_sc", [
    ("/var/lib/postgresql/data/pgdata", ""),  # the better layout: no claim at PGDATA
    ("", "{runAsUser: 999}"),  # a uid the manifest pins is kept: warned, not loosened
    ("", "{runAsNonRoot: true}"),  # so is runAsNonRoot: a root start would not be let run
])
def test_no_root_start_without_a_claim_at_pgdata_or_with_a_pinned_uid(env: str, pod_sc: str) -> None:
    outcome = _fix(_text(env=env, pod_sc=pod_sc))
    pod, container = _security(outcome)
    assert pod["runAsUser"] == 999 and pod["runAsNonRoot"] is True
    assert container["capabilities"] == {"drop": ["ALL"]}
    said = [f.message for f in outcome.result.findings if f.rule == "kharden.data-dir"]
    assert bool(said) is bool(pod_sc)
    assert all("running as uid 999, cannot chmod it and the pod fails" in m for m in said)


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


def test_an_empty_dir_at_pgdata_runs_as_999() -> None:
    text = _text().replace("  volumeClaimTemplates:", "      volumes: [{name: data, emptyDir: {}}]\n  x-unused:")
    pod, container = _security(_fix(text))
    assert pod["runAsUser"] == 999 and container["capabilities"] == {"drop": ["ALL"]}


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


@pytest.mark.parametrize("on_claim", [
    {"startsAsRoot": "drops", "capabilities": ["CHOWN"]},
    {"startsAsRoot": "required"},
    {"startsAsRoot": "required", "capabilities": "CHOWN"},
])
def test_the_catalog_refuses_a_bad_on_claim(on_claim: dict[str, Any]) -> None:
    entry = {"family": "x", "images": ["docker.io/library/x"], "source": "s",
             "dataDir": {"path": "/var/x", "onClaim": on_claim}}
    with pytest.raises(CatalogError, match="onClaim"):
        validate(entry)
