"""TLS on Ingress and Gateway objects, and ingress-nginx annotations with known abuse.

| rule id | severity | what |
|---|---|---|
| `ingress.tls-missing` | error | a host of `spec.rules` (or the host-less catch-all) not covered by `spec.tls` |
| `ingress.http-allowed` | warning | `nginx.ingress.kubernetes.io/ssl-redirect: "false"`, `force-ssl-redirect: "false"`, `kubernetes.io/ingress.allow-http: "true"`, Traefik `router.entrypoints: web` only |
| `ingress.nginx-snippet` | error | `*-snippet` annotations: CVE-2021-25742, any nginx directive incl. reading every Secret the controller can (kubernetes/ingress-nginx#7837) |
| `ingress.nginx-injection` | error | `auth-url` (CVE-2025-24514, kubernetes/kubernetes#131006), `auth-tls-match-cn` (CVE-2025-1097, #131007), `mirror-target`/`mirror-host` (CVE-2025-1098, #131008), `auth-proxy-set-headers` (CVE-2025-15566, #136789) holding characters that break out of the nginx directive (newline, `;`, `{`, `}`, `#`, quotes, `\\`, `$`) |
| `ingress.nginx-vulnerable-controller` | error | an ingress-nginx controller image older than v1.11.5 / v1.12.0: the IngressNightmare family, whose unauthenticated admission-webhook RCE CVE-2025-1974 (#131009) chains those injections |
| `gateway.http-only` | warning | a Gateway listener serving HTTP for a hostname no HTTPS/TLS listener serves |
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from kharden.cluster.fixopts import IssuerOptions
from kharden.cluster.tls import mapping, tls_fix_blocked, uncovered_hosts
from kharden.find import find_pod_targets
from kharden.model import Finding, Path, Severity
from kharden.read import KObject

NGINX = "nginx.ingress.kubernetes.io/"
SNIPPETS = ("configuration-snippet", "server-snippet", "stream-snippet", "auth-snippet", "modsecurity-snippet")
INJECTABLE = {
    "auth-url": "CVE-2025-24514", "auth-tls-match-cn": "CVE-2025-1097", "mirror-target": "CVE-2025-1098",
    "mirror-host": "CVE-2025-1098", "auth-proxy-set-headers": "CVE-2025-15566",
}
SUSPICIOUS = re.compile(r"[\n\r;{}#'\"\\$]")
HTTP_ALLOWED = {
    NGINX + "ssl-redirect": "false", NGINX + "force-ssl-redirect": "false", "kubernetes.io/ingress.allow-http": "true",
}
TRAEFIK_ENTRYPOINTS = "traefik.ingress.kubernetes.io/router.entrypoints"
FIXED_NGINX = ((1, 11, 5), (1, 12, 1))  # controller-v1.11.5 and v1.12.1 fix the 2025 family


def check_ingress(objects: list[KObject], opts: IssuerOptions, status: str = "open") -> list[Finding]:
    out: list[Finding] = []
    for obj in objects:
        group = obj.ref.api_version.rpartition("/")[0]
        if obj.ref.kind == "Ingress" and group in ("networking.k8s.io", "extensions"):
            out += _tls(obj, opts, status) + list(_annotations(obj, status))
        elif obj.ref.kind == "Gateway" and group == "gateway.networking.k8s.io":
            out += list(_gateway(obj, status))
        out += list(_controller(obj, status))
    return out


def _f(obj: KObject, rule: str, sev: Severity, msg: str, path: Path, status: str, reason: str = "",
       **extra: Any) -> Finding:
    return Finding(obj.ref, rule, sev, msg, path, obj.line(path), status=status, reason=reason,  # type: ignore[arg-type]
                   extra=extra)


def _tls(obj: KObject, opts: IssuerOptions, status: str) -> list[Finding]:
    missing, hostless = uncovered_hosts(obj)
    why = tls_fix_blocked(obj, opts) or "kharden fix adds a tls entry and the cert-manager issuer annotation"
    out = [_f(obj, "ingress.tls-missing", "error", f"host {host} is served over plain HTTP: no spec.tls entry "
              "covers it", ("spec", "rules", i, "host"), status, why) for i, host in missing]
    if hostless:
        out.append(_f(obj, "ingress.tls-missing", "error", "a rule without a host is served over plain HTTP only",
                      ("spec",), status, "TLS needs a host name: add one and a tls entry"))
    return out


def _annotations(obj: KObject, status: str) -> Iterator[Finding]:
    meta = mapping(obj.data.get("metadata"))
    ann = mapping(meta.get("annotations"))
    for key, value in ann.items():
        key, text, path = str(key), str(value), ("metadata", "annotations", key)
        if HTTP_ALLOWED.get(key) == text.lower():
            yield _f(obj, "ingress.http-allowed", "warning", f"{key}: {text!r} serves the site over plain HTTP",
                     path, status, "remove the annotation: HTTPS is redirected to by default")
        elif key == TRAEFIK_ENTRYPOINTS and {s.strip() for s in text.split(",")} == {"web"}:
            yield _f(obj, "ingress.http-allowed", "warning", "served on Traefik's HTTP entrypoint only", path, status,
                     "add the websecure entrypoint")
        elif key.startswith(NGINX) and key[len(NGINX):] in SNIPPETS:
            yield _f(obj, "ingress.nginx-snippet", "error", f"{key} injects raw nginx configuration: whoever "
                     "can write this Ingress can read every Secret the controller can (CVE-2021-25742)", path,
                     status, "move the configuration to the controller's ConfigMap and set "
                     "allow-snippet-annotations: false", cve="CVE-2021-25742")
        elif key.startswith(NGINX) and key[len(NGINX):] in INJECTABLE and SUSPICIOUS.search(text):
            cve = INJECTABLE[key[len(NGINX):]]
            yield _f(obj, "ingress.nginx-injection", "error", f"{key} holds characters that break out of its "
                     f"nginx directive ({cve}, the IngressNightmare family)", path, status,
                     "remove the characters; upgrade ingress-nginx to v1.11.5 / v1.12.1 or later", cve=cve)


def _gateway(obj: KObject, status: str) -> Iterator[Finding]:
    spec = mapping(obj.data.get("spec"))
    listeners = [x for x in spec.get("listeners") or [] if isinstance(x, dict)]
    secure = {x.get("hostname") for x in listeners if x.get("protocol") in ("HTTPS", "TLS")}
    for i, x in enumerate(listeners):
        if x.get("protocol") == "HTTP" and x.get("hostname") not in secure and None not in secure:
            host = x.get("hostname") or "every hostname"
            yield _f(obj, "gateway.http-only", "warning", f"listener {x.get('name')!r} serves {host} over HTTP "
                     "with no HTTPS listener for it", ("spec", "listeners", i), status,
                     "add an HTTPS listener with a certificateRef, and an HTTPRoute redirect on the HTTP one")


def _controller(obj: KObject, status: str) -> Iterator[Finding]:
    for target in find_pod_targets(obj, None):
        for path, container in target.containers():
            image = str(container.get("image", ""))
            m = re.search(r"ingress-nginx/controller(?:-chroot)?:v(\d+)\.(\d+)\.(\d+)", image)
            if m and _vulnerable(tuple(int(g) for g in m.groups())):
                yield _f(obj, "ingress.nginx-vulnerable-controller", "error", f"ingress-nginx controller {image} is "
                         "affected by IngressNightmare (CVE-2025-1974, -1097, -1098, -24514)", path + ("image",),
                         status, "upgrade to controller v1.11.5, v1.12.1 or later", cve="CVE-2025-1974")


def _vulnerable(v: tuple[int, ...]) -> bool:
    return v < FIXED_NGINX[0] or (v[:2] == (1, 12) and v < FIXED_NGINX[1])
