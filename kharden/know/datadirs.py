"""A persistent volume mounted right at a data directory the image must own (postgres: PGDATA), with or without a
subPath: a warning that names the risk and the fix. kharden changes nothing there: the safe layout moves where the
database lives, which only a person can decide for a volume that already holds one.

What happens (facts, with where they come from):
  * docker-library/postgres docker-entrypoint.sh (commit 6edb0a8): `mkdir -p "$PGDATA"; chmod 00700 "$PGDATA" || :`,
    and only as root `find "$PGDATA" \\! -user postgres -exec chown postgres`; then initdb, which chmods PGDATA
    itself and fails with "Operation not permitted" where it is not the owner.
  * docker-library/docs postgres/content.md, PGDATA: a filesystem mount point (GCE persistent disks), a remote
    folder that cannot be chowned, or one holding files (`lost+found`) needs PGDATA in a subdirectory of it.
  * the kubelet, pkg/volume/volume_linux.go changeFilePermission: fsGroup changes each file's group only
    (`Lchown(path, -1, fsGroup)`) and adds group rw (directories also x and set-gid): a fresh volume's root stays
    root's. A missing subPath directory the kubelet makes itself, as root (kubelet_pods.go makeMounts).

So with kharden's non-root uid (999 for postgres, from the catalog), a fresh volume mounted at PGDATA, with or
without subPath, fails: initdb cannot chmod it. A volume the root-run entrypoint initialised belongs to 999 already
and keeps working (the entrypoint, its owner, chmods it back to 0700 after fsGroup's walk). What works on both:
PGDATA in a subdirectory of the mount, which the entrypoint creates as the pod's user (`PGDATA=<mount>/pgdata`; a
volume holding a database needs its files moved there first). tests/test_runtime_claims.py runs all of this with
runc and the postgres test image.
"""

from __future__ import annotations

import posixpath
from typing import Any, Mapping

from kharden.find.podspecs import PodTarget
from kharden.images.facts import ImageFacts
from kharden.model import Finding, Path
from kharden.read import KObject

RULE = "kharden.data-dir"


def claimed_data_dirs(target: PodTarget, obj: KObject, images: Mapping[Path, ImageFacts]) -> list[Finding]:
    """A warning per container whose image has a data directory (`dataDir` in the catalog) with a persistent
    volume (a PersistentVolumeClaim, a StatefulSet's volumeClaimTemplate, a generic ephemeral volume) mounted
    right at it, with or without subPath (a subPath directory the kubelet makes is root's too)."""
    claims = _claimed_volumes(target, obj)
    out: list[Finding] = []
    for path, container in target.containers():
        facts = images.get(path)
        if facts is None or facts.data_dir is None or not claims:
            continue
        data_dir = _data_dir(container, facts.data_dir)
        for i, mount in enumerate(container.get("volumeMounts") or []):
            if isinstance(mount, dict) and mount.get("name") in claims and _same(mount.get("mountPath"), data_dir):
                out.append(_finding(obj, path + ("volumeMounts", i), container, facts, mount, data_dir))
    return out


def _claimed_volumes(target: PodTarget, obj: KObject) -> set[str]:
    """Names of the pod's volumes that are persistent claims."""
    names = {v.get("name") for v in target.spec.get("volumes") or []
             if isinstance(v, dict) and (v.get("persistentVolumeClaim") is not None or v.get("ephemeral") is not None)}
    spec = obj.data.get("spec")
    if obj.ref.kind == "StatefulSet" and isinstance(spec, dict):
        for claim in spec.get("volumeClaimTemplates") or []:
            meta = claim.get("metadata") if isinstance(claim, dict) else None
            if isinstance(meta, dict):
                names.add(meta.get("name"))
    return {n for n in names if isinstance(n, str)}


def _data_dir(container: dict[str, Any], data_dir: tuple[str | None, str]) -> str:
    """The directory as this container sets it (a literal env value), else the image's default."""
    env_name, default = data_dir
    for env in container.get("env") or []:
        value = env.get("value") if isinstance(env, dict) and env.get("name") == env_name else None
        if isinstance(value, str):
            return value
    return default


def _sub(mount: dict[str, Any]) -> bool:
    return bool(mount.get("subPath") or mount.get("subPathExpr"))


def _same(mount_path: Any, data_dir: str) -> bool:
    return isinstance(mount_path, str) and posixpath.normpath(mount_path) == posixpath.normpath(data_dir)


def _finding(obj: KObject, path: Path, container: dict[str, Any], facts: ImageFacts, mount: dict[str, Any],
             data_dir: str) -> Finding:
    name, env_name = container.get("name"), facts.data_dir[0] if facts.data_dir else None
    where = f"{env_name} ({data_dir})" if env_name else data_dir
    uid = f"uid {facts.user}" if facts.user is not None else "a non-root uid"
    sub = f" (subPath {mount.get('subPath') or mount.get('subPathExpr')})" if _sub(mount) else ""
    message = (f"container {name}: the persistent volume {mount.get('name')}{sub} is mounted right at {where}: the "
               f"kubelet leaves a fresh volume's root owned by root (fsGroup changes only its group) and "
               f"{facts.family}'s entrypoint chowns it only when it starts as root, so initdb, running as {uid}, "
               f"cannot chmod it and the pod fails (a volume initialised while it ran as root belongs to it and keeps "
               f"working). Set {env_name or 'it'} to a subdirectory of the mount (e.g. "
               f"{posixpath.join(data_dir, 'pgdata')}), which the entrypoint creates as the pod's user; a volume that "
               f"holds a database needs its files moved there first. A subPath does not help: the kubelet creates "
               f"its directory as root")
    extra = {"container": name, "image": container.get("image"), "volume": mount.get("name"), "dataDir": data_dir}
    return Finding(obj.ref, RULE, "warning", message, path, None, "info", extra=extra)
