"""Proof in a real container runtime of what kharden.know.datadirs warns about: postgres with a persistent volume
mounted right at PGDATA runs as written (as root its entrypoint chowns PGDATA) and, on a fresh volume, breaks as
kharden hardens it (uid 999, fsGroup 999: initdb cannot chmod the root-owned mount point), with or without a
subPath; the layout the warning gives (PGDATA in a subdirectory) serves, fresh and used; a volume the root-run
entrypoint initialised keeps working hardened.

The claim is modelled in tests/runtime/volumes.py (a fresh filesystem's root, the kubelet's fsGroup walk); the
image, the runtime and the pod translation are those of tests/test_runtime.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.runtime import components, scenarios
from tests.runtime.build import Prepared, all_images
from tests.runtime.runner import Outcome, run_pod

REASON = components.skip_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
PGDATA = "/var/lib/postgresql/data"


@pytest.fixture(scope="module")
def postgres() -> Prepared:
    return next(p for p in all_images() if p.image.name == "postgres")


def _pod(prepared: Prepared, work: Path, *, harden: bool, pgdata: str | None = None) -> dict[str, Any]:
    """The postgres Deployment with claim `data` at PGDATA's default path, as kharden's catalog hardens it."""
    doc = yaml.safe_load(scenarios.manifest(prepared, prepared.image.official, {}))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["volumeMounts"] = [{"name": "data", "mountPath": PGDATA}]
    if pgdata:
        container.setdefault("env", []).append({"name": "PGDATA", "value": pgdata})
    doc["spec"]["template"]["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}]
    text = yaml.safe_dump(doc, sort_keys=False)
    if harden:
        text, _ = scenarios.harden(text, (), work / "image-cache")
    pod = scenarios.pod_spec(text)
    return pod


def _start(prepared: Prepared, pod: dict[str, Any], work: Path) -> Outcome:
    return run_pod(pod, prepared.image.config, prepared.lowers, work, prepared.image.port, "postgres")


def test_claim_at_pgdata_serves_as_written_and_breaks_hardened(postgres: Prepared, tmp_path: Path) -> None:
    as_written = _start(postgres, _pod(postgres, tmp_path / "a", harden=False), tmp_path / "a")
    assert as_written.serves, as_written.detail
    hardened = _pod(postgres, tmp_path / "b", harden=True)
    assert hardened["securityContext"]["runAsUser"] == 999 and hardened["securityContext"]["fsGroup"] == 999
    broken = _start(postgres, hardened, tmp_path / "b")
    assert not broken.serves
    assert "Operation not permitted" in broken.detail


def test_the_warned_layout_serves_on_a_fresh_and_on_a_used_volume(postgres: Prepared, tmp_path: Path) -> None:
    """fsGroupChangePolicy left at Always: the kubelet makes the data group-writable at each mount, and the
    entrypoint, PGDATA's owner, chmods it back to 0700 before postgres looks."""
    pod = _pod(postgres, tmp_path, harden=True, pgdata=f"{PGDATA}/pgdata")
    for start in ("fresh", "used"):
        outcome = _start(postgres, pod, tmp_path)
        assert outcome.serves, f"{start}: {outcome.detail}"


def test_a_volume_initialised_as_root_keeps_working_hardened(postgres: Prepared, tmp_path: Path) -> None:
    """The entrypoint, as root, chowned PGDATA to 999: kharden's uid owns it."""
    first = _start(postgres, _pod(postgres, tmp_path, harden=False), tmp_path)
    assert first.serves, first.detail
    then = _start(postgres, _pod(postgres, tmp_path, harden=True), tmp_path)
    assert then.serves, then.detail


def test_a_sub_path_does_not_help(postgres: Prepared, tmp_path: Path) -> None:
    """The kubelet makes the missing subPath directory, as root."""
    pod = _pod(postgres, tmp_path, harden=True)
    pod["containers"][0]["volumeMounts"][0]["subPath"] = "pgdata"
    outcome = _start(postgres, pod, tmp_path)
    assert not outcome.serves
    assert "Operation not permitted" in outcome.detail
