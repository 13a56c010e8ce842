"""Registry credentials and the token flow of the OCI distribution API.

Credentials come from the files `docker login` and `podman login` write: `$DOCKER_CONFIG/config.json` (default
`~/.docker/config.json`), then `$REGISTRY_AUTH_FILE` or `$XDG_RUNTIME_DIR/containers/auth.json`. Only stored
`auth` (base64 `user:password`) or `username`/`password` entries are used: kharden runs no credential helper
(`credsStore`, `credHelpers`), and says so when one is configured for the registry it could not enter.

The token flow (distribution's docs/spec/auth/token.md): a 401 answer carries
`WWW-Authenticate: Bearer realm="…",service="…",scope="…"`; a GET of the realm with that service and scope
(basic credentials when kharden has them) returns `{"token": …}` or `{"access_token": …}`, sent back as
`Authorization: Bearer …`. A `Basic` challenge is answered with the basic credentials directly.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Mapping

DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" or "basic"
    params: Mapping[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """`Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:x:pull"`."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _PARAM.finditer(rest)}
    return Challenge(scheme.lower(), params)


def auth_files(env: Mapping[str, str] | None = None) -> list[str]:
    """The credential files, in the order they are read."""
    env = os.environ if env is None else env
    docker_dir = env.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    files = [os.path.join(docker_dir, "config.json")]
    if env.get("REGISTRY_AUTH_FILE"):
        files.append(env["REGISTRY_AUTH_FILE"])
    if env.get("XDG_RUNTIME_DIR"):
        files.append(os.path.join(env["XDG_RUNTIME_DIR"], "containers", "auth.json"))
    return files


def _keys_for(domain: str) -> list[str]:
    if domain == "docker.io":
        return list(DOCKER_HUB_KEYS)
    return [domain, f"https://{domain}", f"http://{domain}", f"https://{domain}/v1/", f"https://{domain}/v2/"]


def _entry(auths: Mapping[str, Any], keys: list[str]) -> Mapping[str, Any] | None:
    for key in keys:
        entry = auths.get(key)
        if isinstance(entry, dict):
            return entry
    return None


def _decode(entry: Mapping[str, Any]) -> Credentials | None:
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return Credentials(user, password)
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"])
    return None


def credentials_for(domain: str, files: list[str] | None = None) -> tuple[Credentials | None, str | None]:
    """(credentials, None), or (None, a note such as "a credential helper is configured") when none are stored."""
    note = None
    for path in auth_files() if files is None else files:
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        entry = _entry(data.get("auths") or {}, _keys_for(domain))
        creds = _decode(entry) if entry is not None else None
        if creds is not None:
            return creds, None
        helpers = data.get("credHelpers") or {}
        if data.get("credsStore") or any(k in helpers for k in _keys_for(domain)):
            note = f"{path} names a credential helper for {domain}; kharden runs none (store the auth, or use " \
                   "--image-config with `skopeo inspect --config` output)"
    return None, note


def token_url(challenge: Challenge, scope: str) -> str:
    """The realm URL with service and scope, as the token spec asks."""
    from urllib.parse import urlencode

    query = {k: v for k, v in (("service", challenge.params.get("service")), ("scope", scope)) if v}
    realm = challenge.params.get("realm", "")
    return realm + ("&" if "?" in realm else "?") + urlencode(query)


def token_from(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    token = data.get("token") or data.get("access_token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None
