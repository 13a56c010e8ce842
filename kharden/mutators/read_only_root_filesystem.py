"""readOnlyRootFilesystem: containers get a read-only root filesystem, with an emptyDir for each writable path.

    containers:                      ->   containers:
    - name: web                           - name: web
                                            securityContext:
                                              readOnlyRootFilesystem: true
                                            volumeMounts:
                                            - name: kharden-tmp
                                              mountPath: /tmp
                                          volumes:
                                          - name: kharden-tmp
                                            emptyDir: {}

Options:
  writablePaths  paths that stay writable (default ["/tmp"]); each gets an emptyDir volume and a mount in every
                 container kharden makes read-only, unless the container already mounts something at that path
                 or above it.
The image's needs (kharden.know.images) add to these: the paths its process writes (nginx: /var/cache/nginx and
/var/run) and its VOLUMEs known to hold nothing in the image (postgres' data directory). A VOLUME that holds image
content, or may, gets no emptyDir (it would hide the content): containerd gives the container a writable copy of
it, CRI-O a directory that a read-only root makes read-only; the report says so. A container whose image writes
into paths that hold image content (bitnami's /opt/bitnami) is not made read-only: the report says why.
  enforce        turn an explicit `readOnlyRootFilesystem: false` into `true` (with the same mounts).
One volume per path per pod, shared by its containers: that is what a person would write, and the containers of a
pod trust each other anyway. The volume is named `kharden-<path>` (`kharden-tmp`, `kharden-var-cache-nginx`); an
existing emptyDir of that name is reused (so a container added later joins it), and a name taken by any other volume
is never reused: `-2`, `-3`, ... is appended. A container the user already made read-only gets no mounts: its
writable paths are the user's decision. Windows pods are skipped: the API server rejects the field on them.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import re
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.images.facts import ImageFacts
from kharden.model import Path
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, SC, container_sc, containers, image_of, mapping
from kharden.options import ProfileOptions

ID = "readOnlyRootFilesystem"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    writable_paths: tuple[str, ...] = ("/tmp",)
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if target.windows:
        return
    for path, container in containers(target, edit):
        field = path + (SC, "readOnlyRootFilesystem")
        current = container_sc(container).get("readOnlyRootFilesystem")
        if current is True or (current is False and not opts.enforce):
            continue
        facts = image_of(target, path)
        if facts.content_writes and current is None:
            continue  # it writes where the image holds content: read-only breaks it, an emptyDir hides it
        if current is False:
            edit.replace(field, True, f"writable root filesystem made read-only: {ENFORCED}")
        else:
            edit.ensure(field, True, "containers should not write to their image's filesystem")
        for writable in dict.fromkeys([*map(str, opts.writable_paths), *facts.writable, *_empty_volumes(facts)]):
            _mount(target, edit, path, container, writable)


def _empty_volumes(facts: ImageFacts) -> list[str]:
    """The image's VOLUMEs known to hold nothing: an emptyDir there hides nothing, and is writable on CRI-O too."""
    return [volume for volume, holds in facts.volumes.items() if holds == "empty"]


def _mount(target: PodTarget, edit: Editor, path: Path, container: dict[str, Any], writable: str) -> None:
    mounts = container.get("volumeMounts")
    mounted = [mapping(m).get("mountPath") for m in mounts] if isinstance(mounts, list) else []
    if any(isinstance(m, str) and _covers(m, writable) for m in mounted):
        return
    name = _volume_for(target, edit, writable)
    reason = f"{writable} stays writable on a read-only root filesystem"
    edit.append(path + ("volumeMounts",), {"name": name, "mountPath": writable}, reason)


def _covers(mount: str, writable: str) -> bool:
    """The mount is at the path or above it: the pod's own volume already holds the path."""
    mount, writable = mount.rstrip("/") or "/", writable.rstrip("/") or "/"
    return writable == mount or writable.startswith(mount + "/") or mount == "/"


@functools.lru_cache(maxsize=256)  # a container or two per pod, each with the same few paths
def volume_name(writable: str) -> str:
    """kharden-tmp for /tmp, kharden-var-cache-nginx for /var/cache/nginx: a DNS label."""
    slug = re.sub(r"[^a-z0-9]+", "-", writable.lower()).strip("-") or "root"
    return ("kharden-" + slug)[:57].rstrip("-")  # leave room for a "-NN" suffix within 63 characters


def _volume_for(target: PodTarget, edit: Editor, writable: str) -> str:
    volumes_path = target.spec_path + ("volumes",)
    volumes = edit.get(volumes_path)
    by_name = {mapping(v).get("name"): mapping(v) for v in volumes} if isinstance(volumes, list) else {}
    base = candidate = volume_name(writable)
    n = 2
    while candidate in by_name:
        if set(by_name[candidate]) == {"name", "emptyDir"}:
            return candidate  # an emptyDir kharden added before: reuse it
        candidate, n = f"{base}-{n}", n + 1
    edit.append(volumes_path, {"name": candidate, "emptyDir": {}}, f"writable scratch space for {writable}")
    return candidate
