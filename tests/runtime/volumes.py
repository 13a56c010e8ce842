"""A pod's volumes as the kubelet and containerd's CRI put them on disk, as bind mounts for config.json.

- emptyDir (kubelet pkg/volume/emptydir): a directory of mode 0777; with the pod's fsGroup it is given that group,
  group read-write and set-gid (pkg/volume/volume_linux.go SetVolumeOwnership). medium Memory is treated alike.
- an image VOLUME the pod does not mount (containerd WithVolumes): a new directory holding a copy of what the image
  has at that path, owned and moded as in the image, mounted read-write. CRI-O instead only creates the directory in
  the root filesystem by default; not modelled here.
- persistentVolumeClaim: a directory per claim under the run's `claims/` (kept across pods, as a volume is): a new
  one is a fresh filesystem's root, owned by root, mode 0755; with the pod's fsGroup the kubelet walks it
  (pkg/volume/volume_linux.go changeFilePermission): each file's group (`Lchown(path, -1, fsGroup)`), group rw,
  directories also group x and set-gid; at every mount, or with fsGroupChangePolicy OnRootMismatch only while the
  root does not match yet. A missing subPath directory is made by the kubelet, as root, with the volume root's mode
  (kubelet_pods.go makeMounts, SafeMakeDir).
The volume mounts are ordered parents first, as containerd's CRI orders them (a parent mounted later would hide them).
Other volume types (configMap, secret...) are not needed by these tests and raise.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any


def _bind(source: Path, destination: str, read_only: bool = False) -> dict[str, Any]:
    return {"destination": destination, "type": "bind", "source": str(source),
            "options": ["rbind", "ro" if read_only else "rw"]}


def empty_dir(pod_dir: Path, name: str, fs_group: int | None) -> Path:
    where = pod_dir / "volumes" / name
    if not where.is_dir():
        where.mkdir(parents=True)
        os.chmod(where, 0o777)
        if fs_group is not None:
            os.chown(where, -1, fs_group)
            os.chmod(where, 0o2777)
    return where


def claim(claims_dir: Path, name: str, fs_group: int | None, policy: str | None) -> Path:
    """A persistent volume's directory, after the kubelet's fsGroup walk."""
    where = claims_dir / name
    if not where.is_dir():
        where.mkdir(parents=True)
        os.chown(where, 0, 0)
        os.chmod(where, 0o755)
    if fs_group is not None and not (policy == "OnRootMismatch" and _root_matches(where, fs_group)):
        for path in [where, *where.rglob("*")]:
            os.lchown(path, -1, fs_group)
            if not path.is_symlink():
                mode = path.stat().st_mode & 0o7777
                os.chmod(path, mode | 0o660 | (0o2110 if path.is_dir() else 0))
    return where


def _root_matches(root: Path, fs_group: int) -> bool:
    stat = root.stat()
    return stat.st_gid == fs_group and stat.st_mode & 0o2770 == 0o2770


def _sub_path(volume: Path, sub: str) -> Path:
    where = volume / sub
    if not where.exists():
        where.mkdir(parents=True)
        os.chmod(where, volume.stat().st_mode & 0o7777)
    return where


def image_volume(container_dir: Path, rootfs: Path, path: str) -> Path:
    """A writable copy of the image's content at `path`, owned as in the image."""
    where = container_dir / "image-volumes" / hashlib.sha256(path.encode()).hexdigest()[:12]
    where.mkdir(parents=True)
    source = rootfs / path.lstrip("/")
    if source.is_dir():
        subprocess.run(["cp", "-a", f"{source}/.", str(where)], check=True)
        stat = source.stat()
        os.chown(where, stat.st_uid, stat.st_gid)
        os.chmod(where, stat.st_mode & 0o7777)
    return where


def mounts(pod: dict[str, Any], container: dict[str, Any], config: dict[str, Any], rootfs: Path,
           pod_dir: Path, container_dir: Path) -> list[dict[str, Any]]:
    """The bind mounts of this container's volumeMounts and of the image volumes nothing mounts."""
    volumes = {v["name"]: v for v in pod.get("volumes") or []}
    fs_group = (pod.get("securityContext") or {}).get("fsGroup")
    out: list[dict[str, Any]] = []
    mounted: set[str] = set()
    policy = (pod.get("securityContext") or {}).get("fsGroupChangePolicy")
    group = None if fs_group is None else int(fs_group)
    for mount in sorted(container.get("volumeMounts") or [], key=lambda m: os.path.normpath(m["mountPath"]).count("/")):
        volume = volumes[mount["name"]]
        if "persistentVolumeClaim" in volume:
            source = claim(pod_dir.parent / "claims", volume["persistentVolumeClaim"]["claimName"], group, policy)
            source = _sub_path(source, mount["subPath"]) if mount.get("subPath") else source
        elif "emptyDir" in volume and not mount.get("subPath"):
            source = empty_dir(pod_dir, mount["name"], group)
        else:
            raise NotImplementedError(f"volume {mount['name']}: only emptyDir and claims are translated here")
        out.append(_bind(source, mount["mountPath"], bool(mount.get("readOnly"))))
        mounted.add(os.path.normpath(mount["mountPath"]))
    for path in sorted(config.get("Volumes") or {}):
        if os.path.normpath(path) not in mounted:
            out.append(_bind(image_volume(container_dir, rootfs, path), path))
    return out


def sandbox_files(pod_dir: Path, hostname: str) -> list[dict[str, Any]]:
    """/etc/hosts, /etc/hostname and /etc/resolv.conf as the kubelet and the sandbox provide them."""
    files = {"hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
             "hostname": hostname + "\n", "resolv.conf": "nameserver 127.0.0.1\n"}
    out = []
    for name, text in files.items():
        path = pod_dir / "etc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out.append(_bind(path, f"/etc/{name}"))
    return out
