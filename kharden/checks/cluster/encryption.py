"""Encryption at rest: an `EncryptionConfiguration` (apiserver.config.k8s.io/v1, the API server's
`--encryption-provider-config`; https://kubernetes.io/docs/tasks/administer-cluster/encrypt-data/).

The first provider of a resource entry encrypts what is written; the others only decrypt what was written before.

| rule id | severity | what |
|---|---|---|
| `encryption.identity-first` | error | `identity` first for Secrets: they are written in plain text (CIS 1.2.28) |
| `encryption.unknown-provider` | error | a provider other than aescbc, aesgcm, secretbox, kms, identity: the API server rejects the file |
| `encryption.secrets-not-covered` | warning | no resource entry names `secrets` (or `*.`/`*.*`): Secrets are stored as written |
| `encryption.key-in-manifests` | warning | the file holds key material: it belongs on the control-plane nodes, not in a repository |
"""

from __future__ import annotations

from typing import Any, Iterator

from kharden.model import Finding, Path, Severity, Status
from kharden.read import KObject

PROVIDERS = ("aescbc", "aesgcm", "secretbox", "kms", "identity")
SECRETS = ("secrets", "*.", "*.*")


def check_encryption(objects: list[KObject], status: Status = "open") -> list[Finding]:
    out: list[Finding] = []
    for obj in objects:
        if obj.ref.kind in ("EncryptionConfiguration", "EncryptionConfig") and obj.ref.api_version in (
                "apiserver.config.k8s.io/v1", "v1"):
            out += list(_check(obj, status))
    return out


def _f(obj: KObject, rule: str, sev: Severity, msg: str, path: Path, status: Status, reason: str) -> Finding:
    return Finding(obj.ref, rule, sev, msg, path, obj.line(path), status=status, reason=reason,
                   extra={"cis": "1.2.28"} if rule == "encryption.identity-first" else {})


def _provider_name(p: Any) -> str:
    return next(iter(p), "") if isinstance(p, dict) and p else ""


def _check(obj: KObject, status: Status) -> Iterator[Finding]:
    entries = [e for e in obj.data.get("resources") or [] if isinstance(e, dict)]
    secrets_seen = False
    has_keys = False
    for i, entry in enumerate(entries):
        names = [str(r) for r in entry.get("resources") or []]
        raw = entry.get("providers")
        providers: list[Any] = raw if isinstance(raw, list) else []
        for j, p in enumerate(providers):
            name = _provider_name(p)
            if name not in PROVIDERS:
                yield _f(obj, "encryption.unknown-provider", "error", f"resources[{i}].providers[{j}] is {name!r}, "
                         f"not one of {', '.join(PROVIDERS)}", ("resources", i, "providers", j), status,
                         "the API server does not start with it")
            elif name in ("aescbc", "aesgcm", "secretbox") and isinstance(p[name], dict) and p[name].get("keys"):
                has_keys = True
        if any(n in SECRETS for n in names) and not secrets_seen:
            secrets_seen = True
            if providers and _provider_name(providers[0]) == "identity":
                yield _f(obj, "encryption.identity-first", "error", f"resources[{i}] lists identity first: Secrets "
                         "are written in plain text (the providers after it only decrypt)",
                         ("resources", i, "providers", 0), status,
                         "put an encrypting provider first (`kharden generate encryption-config`), keep identity "
                         "last until every Secret is rewritten")
    if not secrets_seen:
        yield _f(obj, "encryption.secrets-not-covered", "warning", "no resource entry covers secrets: they are "
                 "stored unencrypted", ("resources",), status, "add an entry for secrets")
    if has_keys:
        yield _f(obj, "encryption.key-in-manifests", "warning", "this file holds encryption keys: whoever reads the "
                 "repository can decrypt etcd backups", (), status,
                 "keep it only on the control-plane nodes (mode 0600), out of version control")
