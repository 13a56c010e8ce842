"""Generated objects are kharden's to extend (issue 21, item 4): a re-run after a workload was added regenerates
policies and accounts for it, keeps what files outside the run still name, changes nothing when nothing changed,
and under kpt files every generated object at an index no other object of kharden-generated.yaml has."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path

import yaml

from tests.integration_helpers import kharden, tool
from tests.test_krm import _package

API = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: nginx
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: api}
spec:
  selector: {app: api}
  ports: [{port: 80}]
"""
WORKER = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker}
spec:
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: busybox
        env: [{name: API, value: "http://api:80"}]
"""


def _names(path: Path) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in yaml.safe_load_all(path.read_text()) if o}


def test_in_place_rerun_generates_for_a_new_workload(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(API)
    assert kharden("fix", "-q", "-i", "a.yaml", cwd=str(tmp_path)).returncode == 0
    generated = tmp_path / "kharden-generated.yaml"
    first = _names(generated)
    assert ("ServiceAccount", "api") in first and ("NetworkPolicy", "allow-dns") in first
    (tmp_path / "b.yaml").write_text(WORKER)
    done = kharden("fix", "-i", "a.yaml", "b.yaml", cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "already decides" not in done.stderr and "existing-policy" not in done.stderr
    second = _names(generated)
    assert first <= second  # nothing the files still name disappeared
    assert {("ServiceAccount", "worker"), ("NetworkPolicy", "worker-egress")} <= second, second
    before = {p.name: p.read_text() for p in tmp_path.iterdir()}
    again = kharden("fix", "-q", "-i", "--fail-on-change", "a.yaml", "b.yaml", cwd=str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == before


def test_o_over_a_subset_keeps_what_other_written_files_name(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(API)
    (tmp_path / "b.yaml").write_text(WORKER)
    out = tmp_path / "out"
    assert kharden("fix", "-q", "-o", str(out), "a.yaml", "b.yaml", cwd=str(tmp_path)).returncode == 0
    assert ("ServiceAccount", "worker") in _names(out / "kharden-generated.yaml")
    assert "serviceAccountName: worker" in (out / "b.yaml").read_text()
    assert kharden("fix", "-q", "-o", str(out), "a.yaml", cwd=str(tmp_path)).returncode == 0
    assert ("ServiceAccount", "worker") in _names(out / "kharden-generated.yaml")  # out/b.yaml still names it


def test_kpt_rerun_after_adding_a_workload_keeps_indexes_unique(tmp_path: Path) -> None:
    kpt = tool("kpt")
    pkg, wrapper = _package(str(tmp_path))
    for _ in range(2):
        done = subprocess.run([kpt, "fn", "eval", "--exec", wrapper, pkg, "--", "generate=true"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        with open(os.path.join(pkg, "worker.yaml"), "w") as f:
            f.write(WORKER)
    generated = Path(pkg) / "kharden-generated.yaml"
    assert ("ServiceAccount", "worker") in _names(generated)
    listed = subprocess.run([kpt, "fn", "source", pkg], capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    indexes = Counter()
    for item in yaml.safe_load(listed.stdout)["items"]:
        notes = item["metadata"].get("annotations", {})
        indexes[(notes.get("internal.config.kubernetes.io/path"), notes.get("internal.config.kubernetes.io/index"))] += 1
    assert [k for k, n in indexes.items() if n > 1] == []


def test_a_second_in_place_run_over_the_samples_changes_nothing(tmp_path: Path) -> None:
    """The README's samples, hardened in place twice: the second run writes nothing. The generated policies' reasons
    named input lines that the first run's edits moved, so the second run rewrote every policy."""
    import shutil

    work = tmp_path / "samples"
    shutil.copytree(Path(__file__).resolve().parents[1] / "samples", work)
    assert kharden("fix", "-i", "-q", str(work)).returncode == 0
    first = {p.name: p.read_bytes() for p in work.iterdir()}
    assert "kharden-generated.yaml" in first
    assert kharden("fix", "-i", "-q", str(work)).returncode == 0
    assert {p.name: p.read_bytes() for p in work.iterdir()} == first
