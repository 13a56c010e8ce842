"""Where a workload names the hosts it talks to, and how a host name is resolved to a Service of the input.

Clients name a Service in env values, container args/command, ConfigMaps they load (envFrom, configMapKeyRef,
mounted ConfigMap volumes) and the `kharden.dev/connects-to` annotation, as `svc`, `svc.ns`, `svc.ns.svc`,
`svc.ns.svc.<cluster domain>`, `scheme://svc:port/...`, `svc:port`, or a StatefulSet pod's name `db-0.db[.ns...]`.

Each string is tokenized once (host-like tokens with an optional scheme and port) and each token is looked up in
a host-name index built once from the Services, so the cost grows with the text, not with Services x strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator, NamedTuple

from kharden.find.podspecs import get
from kharden.model import Path
from kharden.read import KObject

from .inventory import Inventory, Namespace, Service, Workload

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A host not glued to a word, path ("/x"), variable ("$x") or user ("u@x"); scheme and port optional.
_TOKEN = re.compile(
    rf"(?<![\w.@/$-])(?:(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*)://(?:[^@/\s]*@)?)?"
    rf"(?P<host>{_LABEL}(?:\.{_LABEL})*)\.?(?::(?P<port>\d{{1,5}})(?![\w.]))?(?![\w.-])"
)
CONNECTS_TO = "kharden.dev/connects-to"
_NUMBER = re.compile(r"^[0-9.]+$")
_POD_NAME = re.compile(r"^(?P<sts>.+)-(?P<ordinal>\d+)$")
# Env var names and ConfigMap keys that say their value is an address.
_HINT = re.compile(r"(HOST|HOSTNAME|ADDR|ADDRESS|SERVER|SERVICE|ENDPOINT|URL|URI|DSN)S?$", re.IGNORECASE)


class Mention(NamedTuple):
    """One string a workload reads, where it is (object, path, line) and what a reader would call it.

    (A named tuple: every env value and argument of every container is one, and a frozen dataclass took four
    times as long to make.)"""

    text: str
    obj: KObject
    path: Path
    what: str  # "env CART_SERVICE_ADDR of container server", "ConfigMap app key redis.url"
    hinted: bool  # its env var name or key says it holds an address
    bare_ok: bool = True  # a bare name alone in the string counts (env, ConfigMap) or not (an args item: a flag value)

    def where(self) -> str:
        return self.obj.where(self.path)


@dataclass(frozen=True)
class HostToken:
    host: str
    port: int | None
    scheme: str | None
    whole: bool  # the token is the whole (stripped) string

    def explicit(self, bare_ok: bool = True) -> bool:
        """Written the way only an address is written: with a scheme or a port, or (bare_ok) alone in its string."""
        return self.port is not None or self.scheme is not None or (self.whole and bare_ok)


@lru_cache(maxsize=65536)
def tokens(text: str) -> tuple[HostToken, ...]:
    """Host-like tokens of a string; cached because one ConfigMap is read by many pods."""
    stripped = text.strip()
    out = []
    for m in _TOKEN.finditer(text):
        port = int(m["port"]) if m["port"] else None
        if (port is not None and not 0 < port < 65536) or _NUMBER.match(m["host"]):
            continue  # not a port; numbers, versions and IP addresses are no Service names
        out.append(HostToken(m["host"], port, m["scheme"], m.group(0) == stripped))
    return tuple(out)


def mentions(w: Workload, inv: Inventory) -> Iterator[Mention]:
    """Every string the workload's containers read: env values, args, command, and loaded ConfigMaps."""
    obj, spec = w.obj, w.target.spec
    for cpath, c in w.target.containers():
        cname = c.get("name", cpath[-1])
        for field_ in ("command", "args"):
            for i, arg in enumerate(c.get(field_) or []):
                if isinstance(arg, str):
                    yield Mention(arg, obj, cpath + (field_, i), f"{field_}[{i}] of container {cname}", False, False)
        yield from _env(w, inv, cpath, c, cname)
    yield from _declared(w)
    for vi, vol in enumerate(spec.get("volumes") or []):
        if isinstance(vol, dict):
            sources = [vol.get("configMap")] + [s.get("configMap") for s in get(vol, ("projected", "sources")) or []
                                                if isinstance(s, dict)]
            for src in sources:
                if isinstance(src, dict):
                    keys = [i.get("key") for i in src.get("items") or [] if isinstance(i, dict)] or None
                    yield from _config_map(inv, w.ns, src.get("name"), keys, f"volume {vol.get('name', vi)}")


def _declared(w: Workload) -> Iterator[Mention]:
    """Addresses declared in the `kharden.dev/connects-to` annotation (comma or space separated): for hosts the
    manifests never write, such as defaults compiled into the image."""
    for meta in (w.target.meta_path, ("metadata",)):
        value = get(w.obj.data, meta + ("annotations", CONNECTS_TO))
        if isinstance(value, str):
            path = meta + ("annotations", CONNECTS_TO)
            for item in re.split(r"[\s,]+", value.strip()):
                if item:
                    yield Mention(item, w.obj, path, f"annotation {CONNECTS_TO}", True)
            return


def _env(w: Workload, inv: Inventory, cpath: Path, c: dict[str, Any], cname: str) -> Iterator[Mention]:
    for j, e in enumerate(c.get("env") or []):
        if not isinstance(e, dict):
            continue
        name = str(e.get("name", ""))
        if isinstance(e.get("value"), str):
            hinted = bool(_HINT.search(name))
            yield Mention(e["value"], w.obj, cpath + ("env", j, "value"), f"env {name} of container {cname}", hinted)
        ref = get(e, ("valueFrom", "configMapKeyRef"))
        if isinstance(ref, dict):
            yield from _config_map(inv, w.ns, ref.get("name"), [ref.get("key")], f"env {name} of container {cname}")
    for src in c.get("envFrom") or []:
        ref = src.get("configMapRef") if isinstance(src, dict) else None
        if isinstance(ref, dict):
            yield from _config_map(inv, w.ns, ref.get("name"), None, f"envFrom of container {cname}")


def _config_map(inv: Inventory, ns: Namespace, name: Any, keys: list[Any] | None, via: str) -> Iterator[Mention]:
    cm = inv.config_maps.get((ns, str(name)))
    data = cm.data.get("data") if cm else None
    if cm is None or not isinstance(data, dict):
        return
    for key in keys if keys is not None else list(data):
        value = data.get(key)
        if isinstance(value, str):
            hinted = bool(_HINT.search(str(key).replace(".", "_").replace("-", "_")))
            what = f"ConfigMap {cm.ref.name} key {key} ({via})"
            yield Mention(value, cm, ("data", str(key)), what, hinted)


class HostIndex:
    """Host name -> Service, built once. Short names are relative to the client's namespace."""

    def __init__(self, inv: Inventory, domain: str) -> None:
        self.inv = inv
        self.domain = domain.strip(".")
        self.qualified: dict[str, Service] = {}
        self.short: dict[tuple[Namespace, str], Service] = {}
        for svc in inv.services:
            self.short.setdefault((svc.ns, svc.name), svc)
            if svc.ns is not None:  # without a namespace, only the short name is knowable
                base = f"{svc.name}.{svc.ns}"
                for name in (base, f"{base}.svc", f"{base}.svc.{self.domain}"):
                    self.qualified.setdefault(name, svc)

    def service(self, host: str, ns: Namespace) -> Service | None:
        return self.qualified.get(host) or self.short.get((ns, host))

    def resolve(self, host: str, ns: Namespace) -> tuple[Service, Workload | None] | None:
        """The Service a host names, and the StatefulSet when it names one pod (`db-0.db`)."""
        svc = self.service(host, ns)
        if svc is not None:
            return svc, None
        head, _, rest = host.partition(".")
        m = _POD_NAME.match(head)
        svc = self.service(rest, ns) if m and rest else None
        if svc is None or m is None:
            return None
        sts = self.inv.statefulsets.get((svc.ns, m["sts"]))
        if sts is None or get(sts.obj.data, ("spec", "serviceName")) != svc.name:
            return None
        return svc, sts

    def looks_in_cluster(self, tok: HostToken, hinted: bool) -> bool:
        """Whether an unresolved token looks like a Service name (so its absence deserves a warning).

        Careful about plain words, image names and file paths: only `name.ns.svc[.<domain>]`, `name.<known namespace>`,
        and single names written with a port or scheme (or alone in a value whose name says it is an address).
        """
        host = tok.host
        labels = host.split(".")
        if host == "localhost" or all(p.isdigit() for p in labels):
            return False
        if labels[2:3] == ["svc"]:  # name.ns.svc[.<any cluster domain>]
            return True
        if len(labels) == 2 and labels[1] in self.inv.namespaces and tok.explicit():
            return True
        if len(labels) == 1 and not labels[0].isdigit():
            return tok.port is not None or tok.scheme is not None or (tok.whole and hinted)
        return False
