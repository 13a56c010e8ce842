"""Image references, parsed and normalised the way Docker and containerd do (github.com/distribution/reference).

    nginx                      -> docker.io/library/nginx:latest
    bitnami/redis:7.2          -> docker.io/bitnami/redis:7.2
    localhost:5000/app@sha256:…-> localhost:5000/app@sha256:…      (no tag is invented beside a digest)
    quay.io/prometheus/node-exporter:v1.8.0   (a first component with '.' or ':', or 'localhost', is a registry)

The rules, from distribution/reference (normalize.go, regexp.go, reference.go) as containerd and the kubelet use
them: the first path component is a registry host when it contains '.' or ':', is `localhost`, or has an upper-case
letter; otherwise the registry is docker.io and a single-component name gets `library/`. `index.docker.io` is
docker.io. The repository path is lower case, at most 255 characters with its host. A tag is `[\\w][\\w.-]{0,127}`;
a digest is `algorithm:hex` (sha256 needs 64 lower-case hex digits). `latest` is the tag only when neither tag nor
digest is given; a reference with both is pulled by its digest (the tag is kept for people).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from kharden.errors import KhardenError

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = re.compile(rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*")
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = re.compile(rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}")
_KNOWN_DIGESTS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX64 = re.compile(r"[a-f0-9]{64}")


class ReferenceError(KhardenError):
    """An image string that is not a valid reference (also a template such as `{{ .Values.image }}`)."""


@dataclass(frozen=True)
class Reference:
    """A normalised image reference. `tag` is None when the string named none (see `.with_default_tag`)."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """docker.io/library/nginx"""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """nginx, bitnami/redis, quay.io/prometheus/node-exporter: the short form `docker` prints."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        short = self.path[len(OFFICIAL_PREFIX):]
        return short if self.path.startswith(OFFICIAL_PREFIX) and "/" not in short else self.path

    @property
    def family(self) -> str:
        """The last path component (nginx, redis, node-exporter): what a catalog entry is keyed by."""
        return self.path.rsplit("/", 1)[-1]

    def with_default_tag(self) -> Reference:
        """`latest` added where the reference names neither tag nor digest: what a pull of it means."""
        if self.tag is None and self.digest is None:
            return Reference(self.domain, self.path, "latest", None)
        return self

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += ":" + self.tag
        if self.digest is not None:
            out += "@" + self.digest
        return out

    def familiar(self) -> str:
        """The short form with tag and digest: nginx:1.27, bitnami/redis@sha256:…"""
        full = str(self)
        return self.familiar_name + full[len(self.name):]


def split_domain(name: str) -> tuple[str, str]:
    """(domain, remainder) by Docker's rule, before validation; `library/` added to single official names."""
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or ("." not in first and ":" not in first and first != "localhost" and first.lower() == first):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain, remainder = first, name[slash + 1:]
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_PREFIX + remainder
    return domain, remainder


@functools.lru_cache(maxsize=4096)  # a manifest set names the same few images many times
def parse(text: str) -> Reference:
    """Parse and normalise an image reference; ReferenceError says what is wrong with it."""
    if not isinstance(text, str) or not text:
        raise ReferenceError("an image reference must be a non-empty string")
    if text != text.strip():
        raise ReferenceError(f"image reference {text!r} has surrounding white space")
    rest, digest = _split_digest(text)
    name, tag = _split_tag(rest)
    if _HEX64.fullmatch(name):
        raise ReferenceError(f"invalid repository name {text!r} (64 hex characters): it looks like an image ID")
    domain, path = split_domain(name)
    _check_domain(text, domain)
    _check_path(text, path)
    if len(domain) + 1 + len(path) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceError(f"image reference {text!r}: repository name longer than {NAME_TOTAL_LENGTH_MAX}")
    return Reference(domain, path, tag, digest)


def normalize(text: str) -> str:
    """The full form a runtime pulls: docker.io/library/nginx:latest."""
    return str(parse(text).with_default_tag())


def _split_digest(text: str) -> tuple[str, str | None]:
    if "@" not in text:
        return text, None
    rest, digest = text.split("@", 1)
    if not _DIGEST.fullmatch(digest):
        raise ReferenceError(f"image reference {text!r}: invalid digest {digest!r}")
    algorithm, hexpart = digest.split(":", 1)
    want = _KNOWN_DIGESTS.get(algorithm)
    if want is not None and (len(hexpart) != want or hexpart != hexpart.lower()):
        raise ReferenceError(f"image reference {text!r}: a {algorithm} digest is {want} lower-case hex digits")
    return rest, digest


def _split_tag(rest: str) -> tuple[str, str | None]:
    colon = rest.rfind(":")
    if colon == -1 or "/" in rest[colon + 1:]:  # a colon before the last '/' is a registry port
        return rest, None
    tag = rest[colon + 1:]
    if not _TAG.fullmatch(tag):
        raise ReferenceError(f"image reference {rest!r}: invalid tag {tag!r}")
    return rest[:colon], tag


def _check_domain(text: str, domain: str) -> None:
    if not _DOMAIN.fullmatch(domain):
        raise ReferenceError(f"image reference {text!r}: invalid registry host {domain!r}")


def _check_path(text: str, path: str) -> None:
    for component in path.split("/"):
        if _PATH_COMPONENT.fullmatch(component):
            continue
        if component and _PATH_COMPONENT.fullmatch(component.lower()):
            raise ReferenceError(f"image reference {text!r}: repository name must be lowercase")
        raise ReferenceError(f"image reference {text!r}: invalid repository name component {component!r}")
