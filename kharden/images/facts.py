"""What kharden knows of one image, whatever told it: the one record every source is turned into.

    ImageFacts(source="catalog", family="nginx", user=101, group=101, writable=("/var/cache/nginx", "/var/run"),
               ports=(80,), ...)

`from_config` reads an OCI image config (the blob `skopeo inspect --config` and `crane config` print, or the
`Config` of `docker inspect`); `merged` lets a config speak where it can (USER, VOLUME, EXPOSE) and the catalog
fill in what a config never says (the user an entrypoint steps down to, paths written at run time).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # the layers' reader (tarfile, zlib) is imported only by the edge that reads layers
    from kharden.images.layers import LayerFacts

SOURCES = ("config file", "registry", "catalog", "assumed")
ROOT_NAMES = ("", "0", "root")


@dataclass(frozen=True)
class ImageFacts:
    source: str  # one of SOURCES, or "<config source> + catalog" when both spoke
    evidence: str = ""  # the file, the digest, the catalog entry's source
    family: str | None = None  # the catalog entry
    user: int | None = None  # the numeric non-root uid the image's process runs as; None: unknown / any
    group: int | None = None
    image_user: str | None = None  # the config's USER as written
    user_unresolved: bool = False  # USER is a name nothing here maps to a number
    starts_as_root: str | None = None  # "drops" | "required" | None
    writable: tuple[str, ...] = ()
    volumes: Mapping[str, str] = field(default_factory=dict)  # VOLUME -> "empty" | "content" | "unknown"
    content_writes: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()
    capabilities: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    recognised: str = ""  # how a catalog entry was matched from the image's config, not its name (catalog.recognise)
    data_dir: tuple[str | None, str] | None = None  # (env variable naming it, default path): a directory the image
    # must own itself (initdb chmods it), so a persistent volume mounted right there breaks it (kharden.know.datadirs)
    on_claim: tuple[str, tuple[str, ...]] | None = None  # (startsAsRoot, capabilities) that replace the image's own
    # when a persistent volume is mounted right at data_dir: its entrypoint must chown it as root (kharden.know.datadirs)

    @property
    def known(self) -> bool:
        return self.source != "assumed"

    @property
    def root_user(self) -> bool:
        """The image's own USER is root (or empty)."""
        return self.image_user is not None and self.image_user.split(":")[0] in ROOT_NAMES

    @property
    def low_ports(self) -> tuple[int, ...]:
        return tuple(p for p in self.ports if 0 < p < 1024)


ASSUMED = ImageFacts(source="assumed")


def config_section(document: Mapping[str, Any]) -> Mapping[str, Any]:
    """The `config` of an OCI config blob, or the `Config` of a `docker inspect` entry."""
    for key in ("config", "Config"):
        section = document.get(key)
        if isinstance(section, dict):
            return section
    return {}


def from_config(document: Mapping[str, Any], source: str, evidence: str,
                layers: LayerFacts | None = None) -> ImageFacts:
    """Facts from an image config, with /etc/passwd and VOLUME contents from the layers when they were read."""
    config = config_section(document)
    image_user = str(config.get("User") or "")
    uid, gid, unresolved = _numeric_user(image_user, layers)
    volumes = {str(v): _holds(str(v), layers) for v in sorted(config.get("Volumes") or {})}
    ports = tuple(sorted({int(p.split("/")[0]) for p in config.get("ExposedPorts") or {}
                          if p.split("/")[0].isdigit()}))
    return ImageFacts(source, evidence, user=uid if uid else None, group=gid if uid else None,
                      image_user=image_user, user_unresolved=unresolved, volumes=volumes, ports=ports)


def _numeric_user(user: str, layers: LayerFacts | None) -> tuple[int | None, int | None, bool]:
    """USER "101", "101:101", "nginx", "nginx:nginx": the uid and gid, from /etc/passwd for names."""
    name, _, group = user.partition(":")
    if name in ROOT_NAMES:
        return 0, 0, False
    uid: int | None = int(name) if name.isdigit() else None
    gid: int | None = int(group) if group.isdigit() else None
    if uid is None and layers is not None and name in layers.users:
        uid, primary = layers.users[name]
        gid = gid if gid is not None else primary
    if group and gid is None and layers is not None:
        gid = layers.groups.get(group)
    if uid is not None and gid is None and layers is not None:
        gid = next((g for n, (u, g) in layers.users.items() if u == uid), None)
    return uid, gid, uid is None


def _holds(volume: str, layers: LayerFacts | None) -> str:
    if layers is None or volume not in layers.contents:
        return "unknown"
    return "content" if layers.contents[volume] else "empty"


def merged(config: ImageFacts, catalog: ImageFacts | None) -> ImageFacts:
    """The config's facts, completed by the catalog entry of the same image where the config is silent."""
    if catalog is None:
        return config
    user, group = config.user, config.group
    if user is None and catalog.user is not None and (config.root_user or config.user_unresolved):
        user, group = catalog.user, catalog.group  # the catalog knows the user root steps down to, or the name's uid
    volumes = {v: config.volumes[v] if config.volumes[v] != "unknown" else catalog.volumes.get(v, "unknown")
               for v in config.volumes}
    return dataclasses.replace(
        config, source=f"{config.source} + catalog", evidence=f"{config.evidence}; {catalog.evidence}",
        family=catalog.family, user=user, group=group if user is not None else None,
        user_unresolved=config.user_unresolved and user is None, starts_as_root=catalog.starts_as_root,
        writable=catalog.writable, volumes=volumes, content_writes=catalog.content_writes,
        ports=config.ports or catalog.ports, capabilities=catalog.capabilities,
        notes=catalog.notes, recognised=catalog.recognised, data_dir=catalog.data_dir,
        on_claim=catalog.on_claim)
