"""HTTP for the registry client: scheme choice, the 401 -> token -> retry dance, redirects, and the blob cache.

stdlib urllib only: the distribution API needs GETs with a few headers, and a dependency would add nothing.
Redirects are followed here, not by urllib, because urllib would carry the registry's Authorization header to
the blob store it redirects to (S3 and GCS refuse a request with two kinds of authorisation).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import tempfile
import threading
import urllib.error
import urllib.request
from typing import IO, Any, Callable
from urllib.parse import urljoin, urlsplit

from kharden.errors import KhardenError
from kharden.images import auth
from kharden.images.reference import Reference

DOCKER_HUB_API = "registry-1.docker.io"
MAX_REDIRECTS = 5
MAX_BODY = 64 << 20  # a manifest or config is kilobytes; layers are not read whole but streamed (`consume`)
CHUNK = 1 << 16


def is_loopback(domain: str) -> bool:
    host = urlsplit("//" + domain).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def verify(digest: str, body: bytes) -> None:
    algorithm, _, want = digest.partition(":")
    if algorithm not in ("sha256", "sha512"):
        raise KhardenError(f"cannot verify a {algorithm} digest")
    have = hashlib.new(algorithm, body).hexdigest()
    if have != want:
        raise KhardenError(f"content of {digest} has digest {algorithm}:{have}: refused")


class Verifying:
    """A blob's stream that hashes what is read: `check()` once it is read to its end says whether the bytes are
    the digest's (a consumer's work on a blob that fails it is thrown away)."""

    def __init__(self, stream: IO[bytes], digest: str) -> None:
        algorithm, _, self.want = digest.partition(":")
        if algorithm not in ("sha256", "sha512"):
            raise KhardenError(f"cannot verify a {algorithm} digest")
        self.digest = digest
        self.stream = stream
        self.hash = hashlib.new(algorithm)
        self.ended = False

    def read(self, size: int = CHUNK) -> bytes:
        chunk = self.stream.read(size) if size is not None and size >= 0 else self.stream.read()
        self.hash.update(chunk)
        self.ended = self.ended or not chunk or size is None or size < 0
        return chunk

    def check(self) -> None:
        if not self.ended and self.stream.read(1):
            raise KhardenError(f"{self.digest} was not read to its end: not verified")
        if self.hash.hexdigest() != self.want:
            raise KhardenError(f"content of {self.digest} has digest {self.hash.name}:{self.hash.hexdigest()}: "
                               "refused")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx comes back as an HTTPError, and Transport.get follows it


class Transport:
    """GETs against registries, with the credentials and tokens each repository needs (tokens kept per scope)."""

    def __init__(self, *, insecure: set[str], timeout: float, opener: Callable[..., Any] | None = None) -> None:
        self.insecure = insecure
        self.timeout = timeout
        self._open = opener or urllib.request.build_opener(_NoRedirect).open
        self._tokens: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def base(self, domain: str) -> str:
        host = DOCKER_HUB_API if domain == "docker.io" else domain
        scheme = "http" if domain in self.insecure or is_loopback(domain) else "https"
        return f"{scheme}://{host}"

    def get(self, url: str, ref: Reference, *, accept: str,
            consume: Callable[[IO[bytes]], Any] | None = None) -> tuple[Any, dict[str, str]]:
        """The body of a 200 answer (bytes), or what `consume` returns having read it as a stream."""
        key = (ref.domain, ref.path)
        status, body, headers = self._request(url, accept, self._tokens.get(key), consume)
        if status == 401:
            authorization = self._authorize(ref, headers.get("www-authenticate", ""))
            with self._lock:
                self._tokens[key] = authorization
            status, body, headers = self._request(url, accept, authorization, consume)
        if status != 200:
            raise KhardenError(_explain(status, url, body, ref))
        return body, headers

    def _request(self, url: str, accept: str, authorization: str | None,
                 consume: Callable[[IO[bytes]], Any] | None = None) -> tuple[int, Any, dict[str, str]]:
        origin = urlsplit(url).netloc
        for _ in range(MAX_REDIRECTS + 1):
            request = urllib.request.Request(url, headers={"Accept": accept, "User-Agent": "kharden"})
            if authorization and urlsplit(url).netloc == origin:
                request.add_header("Authorization", authorization)
            status, body, headers = self._send(request, consume)
            if status in (301, 302, 303, 307, 308) and headers.get("location"):
                url = urljoin(url, headers["location"])
                continue
            return status, body, headers
        raise KhardenError(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _send(self, request: urllib.request.Request,
              consume: Callable[[IO[bytes]], Any] | None = None) -> tuple[int, Any, dict[str, str]]:
        try:
            with self._open(request, timeout=self.timeout) as answer:
                if consume is not None and answer.status == 200:
                    return answer.status, consume(answer), _lower(answer.headers)
                return answer.status, _read(answer), _lower(answer.headers)
        except urllib.error.HTTPError as e:
            return e.code, _read(e), _lower(e.headers)
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise KhardenError(f"registry {urlsplit(request.full_url).netloc} cannot be reached ({reason})") from None

    def _authorize(self, ref: Reference, header: str) -> str:
        challenge = auth.parse_challenge(header)
        creds, note = auth.credentials_for(ref.domain)
        if challenge is None or challenge.scheme not in ("bearer", "basic"):
            raise KhardenError(f"registry {ref.domain} asks for authentication kharden does not speak ({header!r})")
        if challenge.scheme == "basic":
            if creds is None:
                raise KhardenError(f"registry {ref.domain} needs credentials: none stored" + _also(note))
            return creds.basic()
        url = auth.token_url(challenge, f"repository:{ref.path}:pull")
        status, body, _ = self._request(url, "application/json", creds.basic() if creds else None)
        token = auth.token_from(body) if status == 200 else None
        if token is None:
            who = "with the stored credentials" if creds else "anonymously"
            raise KhardenError(f"no pull token for {ref.path} from {ref.domain} {who} (HTTP {status})" + _also(note))
        return "Bearer " + token


def _lower(headers: Any) -> dict[str, str]:
    """Header names in lower case: HTTP names are case-insensitive, and registries spell them variously."""
    return {k.lower(): v for k, v in headers.items()} if headers else {}


def _also(note: str | None) -> str:
    return f"; {note}" if note else ""


def _read(answer: Any) -> bytes:
    body: bytes = answer.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise KhardenError(f"answer from {answer.geturl()} larger than {MAX_BODY >> 20} MiB: not read")
    return body


def _explain(status: int, url: str, body: bytes, ref: Reference) -> str:
    if status == 404:
        return f"not found in {ref.domain} ({url})"
    if status in (401, 403):
        return f"access to {ref.path} on {ref.domain} refused (HTTP {status}): log in with `docker login {ref.domain}`"
    return f"HTTP {status} from {url}: {body[:200].decode('utf-8', 'replace')}"


class BlobCache:
    """Content-addressed files under `<dir>/blobs/<algorithm>/<hex>`, written atomically; safe to share."""

    def __init__(self, directory: str | None) -> None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        self.directory = directory or os.path.join(base, "kharden", "images")

    def path(self, digest: str) -> str:
        algorithm, _, hexpart = digest.partition(":")
        return os.path.join(self.directory, "blobs", algorithm, hexpart)

    def get(self, digest: str) -> bytes | None:
        try:
            with open(self.path(digest), "rb") as f:
                body = f.read()
        except OSError:
            return None
        try:
            verify(digest, body)
        except KhardenError:
            return None  # a damaged file is fetched again
        return body

    def put(self, digest: str, body: bytes) -> None:
        target = self.path(digest)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(body)
            os.replace(tmp, target)
        except OSError:
            pass  # a cache that cannot be written only costs a fetch next time
