"""Read a Kubernetes audit log (JSON lines of `audit.k8s.io/v1` Events) into the API requests ServiceAccounts made.

One request is logged once per stage (RequestReceived, ResponseStarted, ResponseComplete, Panic) under one
`auditID`; kharden counts it once and remembers every line it appeared on. Only requests by ServiceAccounts
(`user.username: system:serviceaccount:<ns>:<name>`) matter; other users are skipped. A request is:

  * a resource request when it has an `objectRef` (resource, subresource, apiGroup, namespace, name);
  * a non-resource request (`/healthz`, `/version`, `/apis` discovery) otherwise: reported, never turned into a
    rule, because Roles cannot grant it and the `system:discovery` ClusterRole already does;
  * made while impersonating another user: reported, never granted (the rights used were the other user's);
  * forbidden when its response code is 403 or the authorizer's decision was `forbid`: reported, never granted
    (the log shows the workload coped without it; declare it with the annotation if it is really needed).

The pod that made a request is taken from `user.extra["authentication.kubernetes.io/pod-name"]` (bound tokens
carry it); this is how requests made as the shared `default` ServiceAccount are attributed to one workload.
A line that is not a JSON object, not an audit Event, or lacks `verb`/`user.username` is an `InputError`
naming the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kharden.errors import InputError

API_VERSIONS = ("audit.k8s.io/v1",)
SA_PREFIX = "system:serviceaccount:"
POD_NAME = "authentication.kubernetes.io/pod-name"


@dataclass
class Request:
    """One API request by a ServiceAccount, merged over the stages it was logged at."""

    lines: list[int]
    sa_namespace: str
    sa_name: str
    verb: str
    group: str | None  # None: a non-resource request
    resource: str  # "pods/log" with the subresource; the URI for a non-resource request
    namespace: str | None
    name: str | None
    pod: str | None
    forbidden: bool = False
    impersonated: str | None = None  # the user it acted as, when it impersonated one
    stages: set[str] = field(default_factory=set)

    @property
    def sa_user(self) -> str:
        return f"{SA_PREFIX}{self.sa_namespace}:{self.sa_name}"


def read_audit_log(path: str) -> list[Request]:
    """Read and parse the log file at `path` (the generator's one piece of input I/O, kept here)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise InputError(f"cannot read audit log: {e.strerror}", file=path) from None
    except UnicodeDecodeError:
        raise InputError("audit log is not UTF-8 text", file=path) from None
    return parse_audit_log(text, path)


def parse_audit_log(text: str, path: str = "audit.log") -> list[Request]:
    """ServiceAccount requests in the order first seen; blank lines are allowed, anything else must be an Event."""
    requests: dict[str, Request] = {}
    for n, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        event = _event(raw, path, n)
        username = _user(event, path, n)
        if not username.startswith(SA_PREFIX):
            continue
        parsed = _request(event, username, path, n)  # every line is checked, not only a request's first stage
        key = str(event.get("auditID") or f"line {n}")
        request = requests.setdefault(key, parsed)
        if request is not parsed:
            request.lines.append(n)
        request.stages.add(str(event.get("stage", "")))
        request.forbidden = request.forbidden or _forbidden(event)
    return list(requests.values())


def _event(raw: str, path: str, n: int) -> dict[str, Any]:
    try:
        event = json.loads(raw)
    except json.JSONDecodeError as e:
        raise InputError(f"audit log: not JSON: {e.msg} (column {e.colno})", file=path, line=n) from None
    if not isinstance(event, dict):
        raise InputError("audit log: a line must be one JSON object (an audit Event)", file=path, line=n)
    if event.get("kind") != "Event" or event.get("apiVersion") not in API_VERSIONS:
        got = f"{event.get('apiVersion')}/{event.get('kind')}"
        raise InputError(f"audit log: expected an audit.k8s.io/v1 Event, got {got}", file=path, line=n)
    if not isinstance(event.get("verb"), str) or not event["verb"]:
        raise InputError("audit log: Event has no verb", file=path, line=n)
    return event


def _user(event: dict[str, Any], path: str, n: int) -> str:
    user = event.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("username"), str):
        raise InputError("audit log: Event has no user.username", file=path, line=n)
    return str(user["username"])


def _request(event: dict[str, Any], username: str, path: str, n: int) -> Request:
    parts = username[len(SA_PREFIX) :].split(":")
    if len(parts) != 2 or not all(parts):
        raise InputError(f"audit log: malformed ServiceAccount user {username!r}", file=path, line=n)
    ref = event.get("objectRef")
    extra = event["user"].get("extra")
    pods = extra.get(POD_NAME) if isinstance(extra, dict) else None
    pod = str(pods[0]) if isinstance(pods, list) and pods else None
    imp = event.get("impersonatedUser")
    impersonated = str(imp.get("username")) if isinstance(imp, dict) and imp.get("username") else None
    common: dict[str, Any] = {
        "lines": [n], "sa_namespace": parts[0], "sa_name": parts[1], "verb": event["verb"], "pod": pod,
        "impersonated": impersonated,
    }
    if ref is None:
        return Request(group=None, resource=str(event.get("requestURI", "?")), namespace=None, name=None, **common)
    if not isinstance(ref, dict) or not isinstance(ref.get("resource"), str) or not ref["resource"]:
        raise InputError("audit log: objectRef without a resource", file=path, line=n)
    resource = ref["resource"] + (f"/{ref['subresource']}" if ref.get("subresource") else "")
    return Request(
        group=str(ref.get("apiGroup") or ""),
        resource=resource,
        namespace=str(ref["namespace"]) if ref.get("namespace") else None,
        name=str(ref["name"]) if ref.get("name") else None,
        **common,
    )


def _forbidden(event: dict[str, Any]) -> bool:
    status = event.get("responseStatus")
    annotations = event.get("annotations")
    code = status.get("code") if isinstance(status, dict) else None
    decision = annotations.get("authorization.k8s.io/decision") if isinstance(annotations, dict) else None
    return code == 403 or decision == "forbid"
