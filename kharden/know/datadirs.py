"""A persistent volume mounted right at a data directory the image must own (postgres: PGDATA), with or without a
subPath: the image's entrypoint must start as root there (`on_claim`: the catalog's `dataDir.onClaim` replaces the
container's startsAsRoot and capabilities, so the mutators set no user on it), and a warning says so and names the
better layout. kharden does not move PGDATA itself: that moves where the database lives, which only a person can
decide for a volume that already holds one. A container the manifest pins to a non-root uid (or runAsNonRoot: true)
is left as written (warned only): kharden loosens nothing a person chose.

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
without subPath, fails: initdb cannot chmod it; started as root (what kharden now leaves it) the entrypoint chowns it
and steps down with gosu, with CHOWN DAC_OVERRIDE SETUID SETGID beside drop ALL (the catalog says why each). A volume the root-run entrypoint initialised belongs to 999 already
and keeps working (the entrypoint, its owner, chmods it back to 0700 after fsGroup's walk). What works on both:
PGDATA in a subdirectory of the mount, which the entrypoint creates as the pod's user (`PGDATA=<mount>/pgdata`; a
volume holding a database needs its files moved there first). tests/test_runtime_claims.py runs all of this with
runc and the postgres test image.
"""

from __future__ import annotations

import dataclasses
import posixpath
from typing import Any, Iterator, Mapping

from kharden.find.podspecs import PodTarget
from kharden.images.facts import ImageFacts
from kharden.model import Finding, Path
from kharden.read import KObject

RULE = "kharden.data-dir"


def on_claim(target: PodTarget, obj: KObject, images: Mapping[Path, ImageFacts]) -> dict[Path, ImageFacts]:
    """`images` with the catalog's `onClaim` facts (startsAsRoot required, the capabilities its root part needs)
    for each container that has a persistent volume right at its data directory and no non-root uid of its own."""
    out = dict(images)
    for path, container, _, _, _ in _claimed_mounts(target, obj, images):
        facts = images[path]
        if facts.on_claim is not None and not _pinned(target, container):
            start, capabilities = facts.on_claim
            out[path] = dataclasses.replace(facts, starts_as_root=start, capabilities=capabilities)
    return out


def claimed_data_dirs(target: PodTarget, obj: KObject, images: Mapping[Path, ImageFacts]) -> list[Finding]:
    """A warning per container whose image has a data directory (`dataDir` in the catalog) with a persistent
    volume (a PersistentVolumeClaim, a StatefulSet's volumeClaimTemplate, a generic ephemeral volume) mounted
    right at it, with or without subPath (a subPath directory the kubelet makes is root's too)."""
    return [_finding(obj, path + ("volumeMounts", i), container, images[path], mount, data_dir)
            for path, container, i, mount, data_dir in _claimed_mounts(target, obj, images)]


Claimed = tuple[Path, dict[str, Any], int, dict[str, Any], str]  # container path, container, mount index, mount, dir


def _claimed_mounts(target: PodTarget, obj: KObject, images: Mapping[Path, ImageFacts]) -> Iterator[Claimed]:
    claims = _claimed_volumes(target, obj)
    for path, container in target.containers() if claims else ():
        facts = images.get(path)
        if facts is None or facts.data_dir is None:
            continue
        data_dir = _data_dir(container, facts.data_dir)
        for i, mount in enumerate(container.get("volumeMounts") or []):
            if isinstance(mount, dict) and mount.get("name") in claims and _same(mount.get("mountPath"), data_dir):
                yield path, container, i, mount, data_dir


def _pinned(target: PodTarget, container: dict[str, Any]) -> bool:
    """The manifest runs the container as a non-root uid of its own, or asks runAsNonRoot: true of it (container,
    else pod securityContext): a root start would not even be let run there."""
    contexts = [c for c in (container.get("securityContext"), target.spec.get("securityContext")) if isinstance(c, dict)]
    if any(c.get("runAsNonRoot") is True for c in contexts):
        return True
    for context in contexts:
        user = context.get("runAsUser")
        if user is not None:
            return bool(user != 0)
    return False


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
    why = (f"the kubelet leaves a fresh volume's root owned by root (fsGroup changes only its group) and "
           f"{facts.family}'s entrypoint chowns it only when it starts as root")
    if facts.starts_as_root == "required":
        did = (f"{why}: kharden leaves it starting as root (no runAsUser, no runAsNonRoot: not PSS restricted) and "
               f"keeps {' '.join(facts.capabilities)} beside drop ALL for that chown and its step down to {uid}")
    else:
        did = (f"{why}, so initdb, running as {uid}, cannot chmod it and the pod fails (a volume initialised while it "
               f"ran as root belongs to it and keeps working)")
    message = (f"container {name}: the persistent volume {mount.get('name')}{sub} is mounted right at {where}: {did}. "
               f"Better: set {env_name or 'it'} to a subdirectory of the mount (e.g. "
               f"{posixpath.join(data_dir, 'pgdata')}), which the entrypoint creates as the pod's user, and kharden "
               f"runs it as {uid}; a volume that holds a database needs its files moved there first. A subPath does "
               f"not help: the kubelet creates its directory as root")
    extra = {"container": name, "image": container.get("image"), "volume": mount.get("name"), "dataDir": data_dir}
    return Finding(obj.ref, RULE, "warning", message, path, None, "info", extra=extra)
