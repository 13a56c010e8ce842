"""The registry client against a real registry (Debian's docker-registry, images pushed with skopeo), and the
bearer-token flow against a small token server in front of it."""

from __future__ import annotations

import base64
import http.server
import json
import pathlib
import threading
import urllib.request
from typing import Any, Iterator

import pytest

from kharden.images import auth, layers
from kharden.images.reference import parse
from kharden.images.registry import Client, RegistryError, pick_platform
from tests.registry_helpers import Registry, image, oci_layout, passwd, registry

APP = image(user="app", volumes=["/data", "/empty"], ports=["80", "8443"], entrypoint=["/entrypoint.sh"],
            cmd=["serve"], layers=[passwd(("app", 101, 102)), {"data/": None, "data/seed.db": "x"}])
MULTI = [image(user="1", architecture="amd64"), image(user="2", architecture="arm64", variant="v8"),
         image(user="3", architecture="arm", variant="v7")]


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, pathlib.Path]]:
    layout = oci_layout(tmp_path_factory.mktemp("layout"), {"v1": APP, "multi": MULTI})
    with registry() as reg:
        reg.push(layout, "v1", "team/app:v1")
        reg.push(layout, "multi", "team/multi:1")
        yield reg, layout


def _index_digest(layout: pathlib.Path, tag: str) -> str:
    index = json.loads((layout / "index.json").read_text())
    return next(m["digest"] for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == tag)


def test_config_read_from_a_real_registry(pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, layout = pushed
    found = Client(cache_dir=str(tmp_path)).resolve(parse(f"{reg.host}/team/app:v1"))
    assert found.config["config"]["User"] == "app"
    assert set(found.config["config"]["Volumes"]) == {"/data", "/empty"}
    assert found.config["config"]["Entrypoint"] == ["/entrypoint.sh"]
    assert found.digest == found.manifest_digest == _index_digest(layout, "v1")  # a single manifest: its own digest


def test_multi_arch_index_gives_the_platform_entry_and_pins_the_index(
        pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, layout = pushed
    image_ref = f"{reg.host}/team/multi:1"
    users = {}
    for platform in ("linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7"):
        found = Client(cache_dir=str(tmp_path), platform=platform).resolve(parse(image_ref))
        users[platform] = found.config["config"]["User"]
        assert found.digest == _index_digest(layout, "multi") != found.manifest_digest
    assert users == {"linux/amd64": "1", "linux/arm64": "2", "linux/arm64/v8": "2", "linux/arm/v7": "3"}
    result = Client(cache_dir=str(tmp_path), platform="linux/s390x").resolve_all([image_ref])[image_ref]
    assert isinstance(result, RegistryError) and "no linux/s390x image" in str(result)
    assert "linux/arm64/v8" in str(result)


def test_by_digest_and_cached_on_disk(pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, layout = pushed
    digest = _index_digest(layout, "multi")
    found = Client(cache_dir=str(tmp_path)).resolve(parse(f"{reg.host}/team/multi@{digest}"))
    assert found.config["config"]["User"] == "1"
    cached = sorted(p.name for p in (tmp_path / "blobs" / "sha256").iterdir())
    assert digest.split(":")[1] in cached and len(cached) == 3  # index, manifest, config
    # Everything named by digest now comes from the cache: a client whose every request fails still resolves it.
    offline = Client(cache_dir=str(tmp_path), opener=_refuse)
    assert offline.resolve(parse(f"{reg.host}/team/multi@{digest}")).config == found.config


def _refuse(*args: Any, **kwargs: Any) -> Any:
    raise OSError("no network in this test")


def test_one_fetch_per_digest_per_run(pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, layout = pushed
    seen: list[str] = []

    def counting(request: urllib.request.Request, timeout: float) -> Any:
        seen.append(request.full_url)
        return urllib.request.build_opener().open(request, timeout=timeout)

    digest = _index_digest(layout, "v1")
    names = [f"{reg.host}/team/app:v1", f"{reg.host}/team/app@{digest}", f"{reg.host}/team/app:v1@{digest}"] * 3
    results = Client(cache_dir=str(tmp_path), opener=counting).resolve_all(names)
    assert len(results) == 3 and all(not isinstance(r, Exception) for r in results.values())
    blob_gets = [u for u in seen if "/blobs/" in u]
    manifest_gets = [u for u in seen if "/manifests/" in u]
    assert len(blob_gets) == 1  # the config blob, once for three references
    # The tag once (tags are never cached: they move); the digest at most once: the tag's and the digest's look-ups
    # run side by side, and when the tag's answer (that same digest) is cached first, the digest needs no request.
    assert len([u for u in manifest_gets if u.endswith("/manifests/v1")]) == 1
    assert len([u for u in manifest_gets if u.endswith(f"/manifests/{digest}")]) <= 1
    assert len(manifest_gets) in (1, 2)


def test_unreachable_registry_and_missing_image_are_errors_per_image(
        pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, _ = pushed
    names = [f"{reg.host}/team/app:v1", f"{reg.host}/team/nothing:1", "127.0.0.1:1/x:1", "{{ .Values.image }}"]
    results = Client(cache_dir=str(tmp_path), timeout=5).resolve_all(names)
    assert not isinstance(results[names[0]], Exception)
    assert "not found" in str(results[names[1]])
    assert "cannot be reached" in str(results[names[2]])
    assert "not an image reference" in str(results[names[3]])


def test_layers_give_named_users_and_volume_content(pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Layers are streamed from the registry, never read whole: a body limit (here 16 bytes) does not apply."""
    from kharden.images import http

    reg, _ = pushed
    client = Client(cache_dir=str(tmp_path))
    found = client.resolve(parse(f"{reg.host}/team/app:v1"))
    monkeypatch.setattr(http, "MAX_BODY", 16)
    scanner = layers.Scanner(["/data", "/empty"], "team/app:v1")
    for descriptor in found.layers:
        client.stream_blob(found.reference, descriptor["digest"], scanner.apply)
    facts = scanner.facts()
    assert facts.users["app"] == (101, 102) and facts.users["root"] == (0, 0)
    assert facts.contents == {"/data": ["/data/seed.db"], "/empty": []}
    assert scanner.compressed == sum(d["size"] for d in found.layers)  # each layer read to its end (verified)


def test_a_streamed_blob_is_verified_and_refused_when_it_is_not_its_digest() -> None:
    import hashlib
    import io

    from kharden.errors import KhardenError
    from kharden.images.http import Verifying
    from tests.registry_helpers import layer_tar

    blob = layer_tar({"etc/passwd": "root:x:0:0::/:/bin/sh\n"})
    good = Verifying(io.BytesIO(blob), "sha256:" + hashlib.sha256(blob).hexdigest())
    layers.Scanner([]).apply(good)  # type: ignore[arg-type]
    good.check()
    bad = Verifying(io.BytesIO(blob), "sha256:" + "0" * 64)
    layers.Scanner([]).apply(bad)  # type: ignore[arg-type]
    with pytest.raises(KhardenError, match="refused"):
        bad.check()
    unread = Verifying(io.BytesIO(blob), "sha256:" + hashlib.sha256(blob).hexdigest())
    with pytest.raises(KhardenError, match="not read to its end"):
        unread.check()


@pytest.mark.parametrize("limits, message", [
    (layers.Limits(entries=3), "more than 3 entries"),
    (layers.Limits(unpacked=1 << 10), "unpack to more than"),
    (layers.Limits(compressed=100), "larger than"),
    (layers.Limits(seconds=-1), "took more than"),
])
def test_layer_limits_stop_a_layer_made_to_cost(limits: layers.Limits, message: str) -> None:
    import io

    from tests.registry_helpers import layer_tar

    blob = layer_tar({f"data/{n}": "x" * 600 for n in range(5)})
    with pytest.raises(layers.LayerLimit, match=message):
        layers.Scanner(["/data"], "team/app:v1", limits).apply(io.BytesIO(blob))
    layers.Scanner(["/data"], "team/app:v1").apply(io.BytesIO(blob))  # the default limits read it


def test_a_layer_that_is_not_a_tar_is_an_error_with_the_images_name() -> None:
    import gzip
    import io

    from kharden.errors import KhardenError

    with pytest.raises(KhardenError, match="a layer of team/app:v1 is not a readable tar"):
        layers.Scanner([], "team/app:v1").apply(io.BytesIO(gzip.compress(b"not a tar" * 100)))


def test_whiteouts_are_applied() -> None:
    from tests.registry_helpers import layer_tar

    lower = layer_tar({"data/a": "1", "data/b": "2", "data/sub/c": "3", **passwd(("old", 5, 5))})
    upper = layer_tar({"data/.wh.a": "", "data/sub/.wh..wh..opq": "", **passwd(("new", 7, 8))})
    facts = layers.scan([lower, upper], ["/data"])
    assert facts.contents == {"/data": ["/data/b"]}
    assert "new" in facts.users and "old" not in facts.users


# -- credentials and the token flow ---------------------------------------------------------------------------

def test_basic_credentials_from_docker_config(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with registry(credentials=("kharden", "s3cret")) as reg:
        layout = oci_layout(tmp_path / "layout", {"v1": APP})
        reg.push(layout, "v1", "private/app:v1")
        image_ref = f"{reg.host}/private/app:v1"
        monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
        monkeypatch.delenv("REGISTRY_AUTH_FILE", raising=False)
        monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
        refused = Client(cache_dir=str(tmp_path / "c1")).resolve_all([image_ref])[image_ref]
        assert isinstance(refused, RegistryError) and "needs credentials" in str(refused)
        (tmp_path / "docker").mkdir()
        token = base64.b64encode(b"kharden:s3cret").decode()
        (tmp_path / "docker" / "config.json").write_text(json.dumps({"auths": {reg.host: {"auth": token}}}))
        found = Client(cache_dir=str(tmp_path / "c2")).resolve(parse(image_ref))
        assert found.config["config"]["User"] == "app"


class _TokenFront(http.server.BaseHTTPRequestHandler):
    """A registry front that asks for a bearer token (as Docker Hub does) and proxies to the real registry."""

    upstream = ""
    issued: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path.startswith("/token"):
            self.issued.append(self.path)
            self._answer(200, json.dumps({"token": "t0ken"}).encode(), {"Content-Type": "application/json"})
        elif self.headers.get("Authorization") != "Bearer t0ken":
            realm = f"http://{self.headers['Host']}/token"
            self._answer(401, b"{}", {"WWW-Authenticate": f'Bearer realm="{realm}",service="test",scope="x"'})
        else:
            request = urllib.request.Request(self.upstream + self.path, headers={"Accept": self.headers["Accept"]})
            with urllib.request.urlopen(request) as answer:
                self._answer(answer.status, answer.read(), {k: v for k, v in answer.headers.items()
                                                             if k in ("Content-Type", "Docker-Content-Digest")})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_bearer_token_flow(pushed: tuple[Registry, pathlib.Path], tmp_path: pathlib.Path) -> None:
    reg, _ = pushed
    _TokenFront.upstream, _TokenFront.issued = f"http://{reg.host}", []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TokenFront)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        found = Client(cache_dir=str(tmp_path)).resolve(parse(f"127.0.0.1:{server.server_port}/team/app:v1"))
    finally:
        server.shutdown()
    assert found.config["config"]["User"] == "app"
    assert _TokenFront.issued and "scope=repository%3Ateam%2Fapp%3Apull" in _TokenFront.issued[0]
    assert "service=test" in _TokenFront.issued[0]


def test_challenge_and_credential_parsing(tmp_path: pathlib.Path) -> None:
    c = auth.parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="a:b:pull"')
    assert c is not None and c.scheme == "bearer" and c.params["service"] == "registry.docker.io"
    assert auth.token_url(c, "repository:library/nginx:pull") == (
        "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull")
    config = tmp_path / "config.json"
    hub = base64.b64encode(b"me:pw").decode()
    config.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": hub},
                                            "https://ghcr.io": {"username": "u", "password": "p"}},
                                  "credHelpers": {"gcr.io": "gcloud"}}))
    assert auth.credentials_for("docker.io", [str(config)])[0] == auth.Credentials("me", "pw")
    assert auth.credentials_for("ghcr.io", [str(config)])[0] == auth.Credentials("u", "p")
    none, note = auth.credentials_for("gcr.io", [str(config)])
    assert none is None and note is not None and "credential helper" in note
    assert auth.token_from(b'{"access_token": "a"}') == "a" and auth.token_from(b"{}") is None


def test_pick_platform_skips_attestations() -> None:
    index = {"manifests": [{"digest": "sha256:att", "platform": {"os": "unknown", "architecture": "unknown"}},
                           {"digest": "sha256:amd", "platform": {"os": "linux", "architecture": "amd64"}}]}
    assert pick_platform(index, "linux/amd64")["digest"] == "sha256:amd"
