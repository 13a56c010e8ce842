"""A small client of the OCI distribution API: an image reference -> its manifest digest and its config.

    client = Client(platform="linux/amd64")
    found = client.resolve_all(["nginx:1.27", "localhost:5000/app:v1"])   # {image: Resolved | RegistryError}

What it does, in the order of the spec (github.com/opencontainers/distribution-spec, spec.md):
  GET /v2/<name>/manifests/<tag|digest>, accepting OCI index/manifest and Docker v2 list/manifest; a 401 is
  answered by the token flow (kharden.images.auth); the digest is the `Docker-Content-Digest` header, checked
  against the bytes. An index (multi-arch) is kept as the image's digest — what `image@digest` pins — and its
  entry for the platform (default linux/amd64) is fetched by digest; then the config blob. Blobs and manifests
  fetched by digest are verified and cached on disk by digest (`~/.cache/kharden/images`), so a second run reads
  the tag's manifest only. Redirects (blob storage) are followed without the registry's Authorization header.
  Plain http only for loopback registries and those named with --insecure-registry.
Concurrency: references are resolved on a thread pool; within one run each digest is fetched once.
A registry that cannot be reached is an error for its images only (RegistryError in the result).
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, Callable, Iterable, TypeVar

from kharden.errors import KhardenError
from kharden.images import http
from kharden.images.reference import Reference, ReferenceError, parse

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEXES = (OCI_INDEX, DOCKER_LIST)
MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join(INDEXES + MANIFESTS)
DEFAULT_PLATFORM = "linux/amd64"
T = TypeVar("T")


class RegistryError(KhardenError):
    """An image whose config could not be read from its registry (the run goes on without it)."""


@dataclass(frozen=True)
class Resolved:
    reference: Reference
    digest: str  # the digest the reference names: an index's own digest for multi-arch images (what pinning uses)
    manifest_digest: str  # the platform's image manifest
    platform: str
    config: dict[str, Any]  # the OCI image config blob: {"architecture", "os", "config": {"User", ...}, "rootfs"}
    layers: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # layer descriptors, bottom first


def parse_platform(text: str) -> tuple[str, str, str | None]:
    """linux/arm64/v8 -> ("linux", "arm64", "v8")."""
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise KhardenError(f"--platform {text!r}: expected OS/ARCH or OS/ARCH/VARIANT, e.g. linux/amd64")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def pick_platform(index: dict[str, Any], platform: str) -> dict[str, Any]:
    """The index entry for the platform (arm64's variant v8 may be left out on either side)."""
    os_, arch, variant = parse_platform(platform)
    entry: dict[str, Any]
    for entry in index.get("manifests") or []:
        p = entry.get("platform") or {}
        if p.get("os") != os_ or p.get("architecture") != arch:
            continue
        have = p.get("variant") or ("v8" if arch == "arm64" else None)
        if variant is None or have == variant or (arch == "arm64" and variant == "v8" and have is None):
            return entry
    offered = sorted({"/".join(filter(None, (p.get("os"), p.get("architecture"), p.get("variant"))))
                      for e in index.get("manifests") or [] if (p := e.get("platform") or {})})
    raise KhardenError(f"no {platform} image in the index (it has: {', '.join(offered) or 'no platforms'})")


class Client:
    """One run's registry client: its memo makes each digest one fetch, whatever number of references name it."""

    def __init__(self, *, platform: str = DEFAULT_PLATFORM, insecure: Iterable[str] = (),
                 cache_dir: str | None = None, timeout: float = 15.0, workers: int = 8,
                 opener: Callable[..., Any] | None = None) -> None:
        parse_platform(platform)
        self.platform = platform
        self.workers = workers
        self.transport = http.Transport(insecure=set(insecure), timeout=timeout, opener=opener)
        self.cache = http.BlobCache(cache_dir)
        self._lock = threading.Lock()
        self._once: dict[str, Future[bytes]] = {}

    def resolve_all(self, images: Iterable[str]) -> dict[str, Resolved | KhardenError]:
        """Each distinct image string resolved concurrently; a failure is that image's value, not an exception."""
        wanted = list(dict.fromkeys(images))
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(wanted) or 1))) as pool:
            futures = {image: pool.submit(self._resolve_text, image) for image in wanted}
        out: dict[str, Resolved | KhardenError] = {}
        for image, future in futures.items():
            error = future.exception()
            out[image] = future.result() if error is None else (
                error if isinstance(error, KhardenError) else RegistryError(f"{image}: {error}"))
        return out

    def _resolve_text(self, image: str) -> Resolved:
        try:
            return self.resolve(parse(image))
        except ReferenceError as e:
            raise RegistryError(f"{image}: not an image reference ({e.message})") from None

    def resolve(self, ref: Reference) -> Resolved:
        full = ref.with_default_tag()
        try:
            body, media, digest = self._manifest(full, full.digest or full.tag or "latest")
            top = digest
            if media in INDEXES:
                entry = pick_platform(json.loads(body), self.platform)
                body, media, digest = self._manifest(full, entry["digest"])
            if media not in MANIFESTS:
                raise KhardenError(f"unsupported manifest type {media or 'unknown'}")
            manifest = json.loads(body)
            config = json.loads(self._blob(full, manifest["config"]["digest"]))
        except KhardenError as e:
            raise RegistryError(f"{ref.familiar()}: {e.message}") from None
        except (ValueError, KeyError, TypeError) as e:
            raise RegistryError(f"{ref.familiar()}: malformed registry answer ({e})") from None
        return Resolved(ref, top, digest, self.platform, config, tuple(manifest.get("layers") or ()))

    def blob(self, ref: Reference, digest: str) -> bytes:
        """A small blob by digest (a config), verified and cached on disk; a layer is read with `stream_blob`."""
        return self._blob(ref, digest)

    def stream_blob(self, ref: Reference, digest: str, consume: Callable[[IO[bytes]], T]) -> T:
        """What `consume` makes of a blob read as a stream (a layer: large, read once for the facts cached from
        it), never held in memory nor written to disk; verified against its digest once `consume` has read it to
        its end, and refused otherwise."""
        def verified(answer: IO[bytes]) -> T:
            stream = http.Verifying(answer, digest)
            result = consume(stream)  # type: ignore[arg-type]  # Verifying reads as a file does
            stream.check()
            return result

        result: T = self.transport.get(f"{self.transport.base(ref.domain)}/v2/{ref.path}/blobs/{digest}", ref,
                                       accept="*/*", consume=verified)[0]
        return result

    # -- fetching, each digest once ---------------------------------------------------------------------------
    def _manifest(self, ref: Reference, tag_or_digest: str) -> tuple[bytes, str, str]:
        if tag_or_digest.startswith("sha256:"):
            body = self._once_per(tag_or_digest, lambda: self._fetch(ref, "manifests", tag_or_digest)[0])
            return body, _media_type(body, ""), tag_or_digest
        body, headers = self._fetch(ref, "manifests", tag_or_digest)
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        claimed = headers.get("docker-content-digest")
        if claimed and claimed.startswith("sha256:") and claimed != digest:
            raise KhardenError(f"the registry's digest {claimed} is not that of the manifest it sent ({digest})")
        self.cache.put(digest, body)
        return body, _media_type(body, headers.get("content-type", "")), digest

    def _blob(self, ref: Reference, digest: str) -> bytes:
        return self._once_per(digest, lambda: self._fetch(ref, "blobs", digest)[0])

    def _once_per(self, digest: str, fetch: Callable[[], bytes]) -> bytes:
        with self._lock:
            future = self._once.get(digest)
            mine = future is None
            if mine:
                future = self._once[digest] = Future()
        assert future is not None
        result: Future[bytes] = future
        if mine:
            try:
                cached = self.cache.get(digest)
                body = cached if cached is not None else fetch()
                if cached is None:
                    http.verify(digest, body)
                    self.cache.put(digest, body)
                result.set_result(body)
            except BaseException as e:  # the waiters see the same error
                result.set_exception(e)
        return result.result()

    def _fetch(self, ref: Reference, kind: str, what: str) -> tuple[bytes, dict[str, str]]:
        url = f"{self.transport.base(ref.domain)}/v2/{ref.path}/{kind}/{what}"
        return self.transport.get(url, ref, accept=ACCEPT if kind == "manifests" else "*/*")


def _media_type(body: bytes, header: str) -> str:
    """The manifest's own mediaType, else the Content-Type (older Docker lists carry only the latter)."""
    try:
        declared = json.loads(body).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    if isinstance(declared, str) and declared:
        return declared
    media = header.split(";")[0].strip()
    if media in INDEXES + MANIFESTS:
        return media
    try:
        return OCI_INDEX if "manifests" in json.loads(body) else OCI_MANIFEST
    except (ValueError, TypeError):
        return media
