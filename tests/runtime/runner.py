"""Run one pod's first container with runc in a network namespace of its own and ask its server a question.

The pod sandbox is a named network namespace (`ip netns`) with loopback up and the pod's own `sysctls` set in it
(the kubelet allows the safe ones; others are refused as it refuses them). Nothing else is opened: ports below 1024
stay privileged, as with containerd 1.7 and CRI-O by default (containerd 2.x sets
`net.ipv4.ip_unprivileged_port_start=0` for every pod, which only makes more pods start). The container's
root is an overlay of the image's layers with a writable upper directory (a snapshot, as containerd's overlayfs
snapshotter makes). The probe runs inside the namespace with nsenter and talks to 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.runtime import oci, volumes
from tests.runtime.kubelet import Refused, verify_run_as_non_root, verify_sysctls

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    serves: bool
    detail: str  # the server's reply, or why it does not answer (kubelet refusal, the container's last log line)


def run_pod(pod: dict[str, Any], config: dict[str, Any], lowers: list[Path], work: Path, port: int, kind: str,
            timeout: float = 40.0) -> Outcome:
    """Start the pod's first container as the kubelet and containerd would and probe `port` until `timeout`."""
    container = pod["containers"][0]
    sysctls = {s["name"]: str(s["value"]) for s in (pod.get("securityContext") or {}).get("sysctls") or []}
    try:
        verify_run_as_non_root(pod, container, config)
        verify_sysctls(sysctls)
    except Refused as refusal:
        return Outcome(False, f"kubelet refuses to create it: {refusal}")
    name = "kh-" + uuid.uuid4().hex[:10]
    work.mkdir(parents=True, exist_ok=True)
    pod_dir = Path(work) / name
    cleanups: list[list[str]] = []
    try:
        netns = _sandbox(name, sysctls, cleanups)
        rootfs = _snapshot(pod_dir, lowers, cleanups)
        mounts = volumes.sandbox_files(pod_dir, name) + volumes.mounts(pod, container, config, rootfs, pod_dir,
                                                                       pod_dir / "container")
        bundle = pod_dir / "bundle"
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(oci.spec(pod, container, config, rootfs, mounts, netns, name)))
        log = pod_dir / "container.log"
        with log.open("wb") as sink:
            started = subprocess.run(["runc", "run", "-d", "--bundle", str(bundle), name], stdin=subprocess.DEVNULL,
                                     stdout=sink, stderr=sink)
        cleanups.insert(0, ["runc", "delete", "--force", name])
        if started.returncode != 0:
            return Outcome(False, "runc: " + _last_line(log))
        return _probe(name, netns, port, kind, log, timeout)
    finally:
        for command in cleanups:
            subprocess.run(command, capture_output=True)
        shutil.rmtree(pod_dir, ignore_errors=True)


def _sandbox(name: str, sysctls: dict[str, str], cleanups: list[list[str]]) -> str:
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    cleanups.append(["ip", "netns", "delete", name])
    subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
    for key, value in sysctls.items():
        subprocess.run(["ip", "netns", "exec", name, "sysctl", "-q", "-w", f"{key}={value}"], check=True,
                       capture_output=True)
    return f"/run/netns/{name}"


def _snapshot(pod_dir: Path, lowers: list[Path], cleanups: list[list[str]]) -> Path:
    upper, workdir, merged = pod_dir / "upper", pod_dir / "work", pod_dir / "rootfs"
    for path in (upper, workdir, merged):
        path.mkdir(parents=True)
    options = f"lowerdir={':'.join(map(str, lowers))},upperdir={upper},workdir={workdir}"
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", options, str(merged)], check=True, capture_output=True)
    cleanups.append(["umount", "--lazy", str(merged)])
    return merged


def _probe(name: str, netns: str, port: int, kind: str, log: Path, timeout: float) -> Outcome:
    deadline = time.monotonic() + timeout
    said, wrong = "", 0
    while time.monotonic() < deadline:
        asked = subprocess.run(["nsenter", f"--net={netns}", sys.executable, "-m", "tests.runtime.probe", str(port),
                                kind], cwd=REPO, capture_output=True, text=True)
        said = asked.stdout.strip()
        if asked.returncode == 0:
            return Outcome(True, f"answers on {port}: {said}")
        wrong += asked.returncode == 1
        if wrong == 3:  # it answers, three times not as it should: that is its answer
            return Outcome(False, f"answers on {port} wrongly: {said}; log: {_last_line(log)}")
        if _state(name) != "running":
            return Outcome(False, "exited: " + _last_line(log))
        time.sleep(0.3)
    return Outcome(False, f"no answer on {port} after {timeout:.0f}s ({said}); log: {_last_line(log)}")


def _state(name: str) -> str:
    state = subprocess.run(["runc", "state", name], capture_output=True, text=True)
    return json.loads(state.stdout).get("status", "") if state.returncode == 0 else "gone"


# Log-line time stamps (nginx, postgres; redis), cut so that the table is the same from run to run.
STAMPS = re.compile(r"^(\d{4}[/-]\d\d[/-]\d\d \d\d:\d\d:\d\d(\.\d+)?( UTC)? |\d+:[A-Z] \d\d \w{3} \d{4} [\d:.]+ )")


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return STAMPS.sub("", lines[-1].strip()) if lines else "(no output)"
