"""Proof in a real container runtime of what kharden.know.datadirs decides: postgres with a persistent volume
mounted right at PGDATA runs as written (as root its entrypoint chowns PGDATA); as kharden hardened it before
(uid 999, fsGroup 999, runAsNonRoot) it breaks on a fresh volume (initdb cannot chmod the root-owned mount point),
with or without a subPath; as kharden hardens it now (started as root, drop ALL plus the catalog's onClaim
capabilities CHOWN DAC_OVERRIDE SETUID SETGID, seccomp, no privilege escalation, read-only root) it serves on a fresh
volume, on a used one and on one the image initialised as written, each of the four capabilities needed. The layout
the warning gives (PGDATA in a subdirectory) is hardened to uid 999 and serves, fresh and used.

The claim is modelled in tests/runtime/volumes.py (a fresh filesystem's root, the kubelet's fsGroup walk); the
image, the runtime and the pod translation are those of tests/test_runtime.py.
"""
from __future__ import annotations

import copy
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
ON_CLAIM = ["CHOWN", "DAC_OVERRIDE", "SETUID", "SETGID"]


@pytest.fixture(scope="module")
def postgres() -> Prepared:
    return next(p for p in all_images() if p.image.name == "postgres")


def _pod(prepared: Prepared, work: Path, *, harden: bool, pgdata: str | None = None,
         sub_path: str | None = None) -> dict[str, Any]:
    """The postgres Deployment with claim `data` at PGDATA's default path, as kharden's catalog hardens it."""
    doc = yaml.safe_load(scenarios.manifest(prepared, prepared.image.official, {}))
    container = doc["spec"]["template"]["spec"]["containers"][0]
    container["volumeMounts"] = [{"name": "data", "mountPath": PGDATA, **({"subPath": sub_path} if sub_path else {})}]
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


def _as_before(hardened: dict[str, Any]) -> dict[str, Any]:
    """What kharden wrote before the catalog's onClaim: uid 999, fsGroup 999, runAsNonRoot, drop ALL only."""
    pod = copy.deepcopy(hardened)
    pod["securityContext"].update(runAsNonRoot=True, runAsUser=999, runAsGroup=999, fsGroup=999)
    del pod["containers"][0]["securityContext"]["capabilities"]["add"]
    return pod


def _with(pod: dict[str, Any], capabilities: list[str]) -> dict[str, Any]:
    out = copy.deepcopy(pod)
    out["containers"][0]["securityContext"]["capabilities"]["add"] = capabilities
    return out


def test_a_claim_at_pgdata_is_hardened_to_start_as_root_and_serves(postgres: Prepared, tmp_path: Path) -> None:
    hardened = _pod(postgres, tmp_path / "b", harden=True)
    pod_sc, sc = hardened["securityContext"], hardened["containers"][0]["securityContext"]
    assert "runAsUser" not in pod_sc and "runAsNonRoot" not in pod_sc and "runAsUser" not in sc
    assert sc["capabilities"] == {"drop": ["ALL"], "add": ON_CLAIM}
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}
    for start in ("fresh", "used"):
        outcome = _start(postgres, hardened, tmp_path / "b")
        assert outcome.serves, f"{start}: {outcome.detail}"


def test_as_kharden_hardened_it_before_a_fresh_claim_broke(postgres: Prepared, tmp_path: Path) -> None:
    as_written = _start(postgres, _pod(postgres, tmp_path / "a", harden=False), tmp_path / "a")
    assert as_written.serves, as_written.detail
    broken = _start(postgres, _as_before(_pod(postgres, tmp_path / "b", harden=True)), tmp_path / "b")
    assert not broken.serves
    assert "Operation not permitted" in broken.detail


@pytest.mark.parametrize("missing", [None, *ON_CLAIM])
def test_each_kept_capability_is_needed(postgres: Prepared, tmp_path: Path, missing: str | None) -> None:
    """Without CHOWN or DAC_OVERRIDE the root part fails on a volume the image initialised as written (DAC_OVERRIDE:
    no fsGroup here, so no group lets root into PGDATA, 999's and 0700); without SETUID or SETGID gosu cannot step
    down. With all four (missing None) it serves."""
    assert _start(postgres, _pod(postgres, tmp_path, harden=False), tmp_path).serves
    pod = _with(_pod(postgres, tmp_path, harden=True), [c for c in ON_CLAIM if c != missing])
    del pod["securityContext"]["fsGroup"]
    outcome = _start(postgres, pod, tmp_path)
    assert outcome.serves is (missing is None), f"{missing}: {outcome.detail}"


def test_the_warned_layout_serves_on_a_fresh_and_on_a_used_volume(postgres: Prepared, tmp_path: Path) -> None:
    """fsGroupChangePolicy left at Always: the kubelet makes the data group-writable at each mount, and the
    entrypoint, PGDATA's owner, chmods it back to 0700 before postgres looks."""
    pod = _pod(postgres, tmp_path, harden=True, pgdata=f"{PGDATA}/pgdata")
    assert pod["securityContext"]["runAsUser"] == 999 and pod["securityContext"]["runAsNonRoot"] is True
    for start in ("fresh", "used"):
        outcome = _start(postgres, pod, tmp_path)
        assert outcome.serves, f"{start}: {outcome.detail}"


def test_a_volume_initialised_as_root_keeps_working_hardened(postgres: Prepared, tmp_path: Path) -> None:
    """The entrypoint, as root, chowned PGDATA to 999; hardened, it starts as root again and finds it so."""
    first = _start(postgres, _pod(postgres, tmp_path, harden=False), tmp_path)
    assert first.serves, first.detail
    then = _start(postgres, _pod(postgres, tmp_path, harden=True), tmp_path)
    assert then.serves, then.detail


def test_a_sub_path_breaks_as_before_and_serves_hardened(postgres: Prepared, tmp_path: Path) -> None:
    """The kubelet makes the missing subPath directory, as root: uid 999 cannot take it, the root start chowns it."""
    hardened = _pod(postgres, tmp_path / "b", harden=True, sub_path="pgdata")
    before = _start(postgres, _as_before(hardened), tmp_path / "a")
    assert not before.serves
    assert "Operation not permitted" in before.detail
    outcome = _start(postgres, hardened, tmp_path / "b")
    assert outcome.serves, outcome.detail
