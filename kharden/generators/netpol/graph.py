"""Edges between workloads: client -> Service -> server pods, on the ports the server really listens on.

For every string a workload reads (references.mentions), each host-like token is looked up in the HostIndex. A hit
adds ingress on each server workload (from the client) and egress on the client (to the server), both on the
Service's target ports; named target ports are resolved through the server's container ports.
"""

from __future__ import annotations

from kharden.model import Path

from .inventory import Inventory, Port, Service, Workload
from .references import HostIndex, HostToken, Mention, mentions, tokens
from .rules import Allow, port_text, workload_peer

SCHEME_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def host_networked(w: Workload) -> bool:
    return w.target.spec.get("hostNetwork") is True


def target_ports(
    svc: Service, server: Workload, port: int | str | None, allow: Allow, direct: bool = False
) -> set[Port]:
    """Ports on `server`'s pods that traffic for `svc` (port number or name, or any) arrives at.

    `direct` is for a StatefulSet pod name or a headless Service: the client then dials the pod itself, so a port
    that is not a Service port is taken as the container's port.
    """
    entries = [(i, p) for i, p in svc.ports() if port is None or port in (p.get("port"), p.get("name"))]
    if not entries and isinstance(port, int) and (direct or svc.headless):
        return {p for p in server.container_ports() if p.port == port} or {Port("TCP", port)}
    out: set[Port] = set()
    for i, p in entries:
        protocol = str(p.get("protocol", "TCP"))
        target = p.get("targetPort", p.get("port"))
        if isinstance(target, str) and target.isdigit():
            target = int(target)
        if isinstance(target, int):
            out.add(Port(protocol, target))
        elif isinstance(target, str):
            named = server.named_ports().get(target)
            if named is not None:
                out.add(Port(protocol, named.port))
            else:
                path: Path = ("spec", "ports", i, "targetPort")
                message = f"targetPort {target!r} names no container port of {server.label}"
                allow.warn(svc.obj, "named-port", message, path)
    return out


def reference_edges(inv: Inventory, index: HostIndex, allow: Allow) -> None:
    """Add the edges named in every workload's env, args, command and loaded ConfigMaps."""
    for client in inv.workloads:
        if host_networked(client):
            continue
        for m in mentions(client, inv):
            for tok in tokens(m.text):
                _reference(client, m, tok, index, allow)


def _reference(client: Workload, m: Mention, tok: HostToken, index: HostIndex, allow: Allow) -> None:
    """One host a workload names: an edge to each server of the Service (or StatefulSet pod) it resolves to, or a
    warning where it looks like one that is not in the input, or names a port the Service lacks."""
    hit = index.resolve(tok.host, client.ns)
    if hit is None:
        if index.looks_in_cluster(tok, m.hinted):
            what = f"{m.what} names {token_text(tok)}, which is not a Service in the input; no policy allows it"
            allow.warn(m.obj, "unresolved-host", what, m.path)
        return
    if not tok.explicit(m.bare_ok) and "." not in tok.host:
        return  # a plain word in a sentence ("Pinging frontend...") or a flag value ("--name web") is no address
    svc, sts = hit
    port = _asked_port(tok, svc)
    for server in _servers(client, tok, svc, sts):
        ports = target_ports(svc, server, port, allow, direct=sts is not None)
        if ports:
            connect(client, server, frozenset(ports), f"{m.what} names {token_text(tok)} ({m.where()})", allow)
        elif port is not None and not svc.headless and sts is None and not _has_port(svc, port):
            message = f"{m.what} names {token_text(tok)}, but Service {svc.name} has no port {port}"
            allow.warn(m.obj, "unknown-port", message, m.path)


def _servers(client: Workload, tok: HostToken, svc: Service, sts: Workload | None) -> list[Workload]:
    """The workloads a resolved host reaches (not on the host network): the StatefulSet pod named, else the
    Service's servers, without the client itself when it names its own bare name (more likely a label)."""
    servers = [sts] if sts is not None else svc.servers
    if tok.port is None and tok.scheme is None and "." not in tok.host:
        servers = [s for s in servers if s is not client]
    return [s for s in servers if not host_networked(s)]


def _asked_port(tok: HostToken, svc: Service) -> int | None:
    """The port written with the host, else its scheme's (http: 80) where the Service has that port."""
    default = SCHEME_PORTS.get(tok.scheme or "")
    if tok.port is None and default is not None and _has_port(svc, default):
        return default
    return tok.port


def _has_port(svc: Service, port: int) -> bool:
    return any(p.get("port") == port for _, p in svc.ports())


def connect(client: Workload, server: Workload, ports: frozenset[Port], why: str, allow: Allow) -> None:
    """Ingress on the server from the client and egress on the client to the server, on `ports`."""
    for side in (client, server):
        if not side.selector:  # an empty podSelector would mean every pod of the namespace
            allow.warn(side.obj, "unselectable", f"{side.label} has no selector or pod labels, so no policy can "
                       f"name its pods; traffic {client.label} -> {server.label} is not allowed", side.target.meta_path)
    if not client.selector or not server.selector:
        return
    src = workload_peer(client, server.ns)
    dst = workload_peer(server, client.ns)
    if src is None or dst is None:
        unnamed = client if src is None else server
        allow.warn(unnamed.obj, "unknown-namespace",
                   f"{unnamed.label} has no metadata.namespace, so a policy in another namespace cannot select it; "
                   f"traffic {client.label} -> {server.label} ({port_text(ports)}) is not allowed there")
    if src is not None:
        allow.add(server, "ingress", src, ports, f"from {client.label}: {why}")
    if dst is not None:
        allow.add(client, "egress", dst, ports, f"to {server.label}: {why}")


def token_text(tok: HostToken) -> str:
    text = f"{tok.scheme}://{tok.host}" if tok.scheme else tok.host
    return f"{text}:{tok.port}" if tok.port is not None else text
