"""Image references parsed and normalised as Docker/containerd do (distribution/reference's own test table, in
part, plus the images the third-party corpus names)."""

from __future__ import annotations

import pathlib
import re

import pytest

from kharden.images.reference import Reference, ReferenceError, normalize, parse, split_domain

H = "sha256:" + "0123456789abcdef" * 4

NORMALISED = [
    ("nginx", "docker.io/library/nginx:latest", "nginx"),
    ("nginx:1.27", "docker.io/library/nginx:1.27", "nginx:1.27"),
    ("library/nginx", "docker.io/library/nginx:latest", "nginx"),
    ("docker.io/nginx", "docker.io/library/nginx:latest", "nginx"),
    ("index.docker.io/nginx:1", "docker.io/library/nginx:1", "nginx:1"),
    ("docker.io/library/foo/bar", "docker.io/library/foo/bar:latest", "library/foo/bar"),
    ("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2", "bitnami/redis:7.2"),
    ("myregistry/app", "docker.io/myregistry/app:latest", "myregistry/app"),  # no '.', ':': a Hub user
    ("localhost/app", "localhost/app:latest", "localhost/app"),
    ("localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1"),
    ("registry:5000/team/app", "registry:5000/team/app:latest", "registry:5000/team/app"),
    ("Foo/bar", "Foo/bar:latest", "Foo/bar"),  # an upper-case first component is a host
    ("quay.io/prometheus/node-exporter:v1.8.0", "quay.io/prometheus/node-exporter:v1.8.0", None),
    ("gcr.io/distroless/static:nonroot", "gcr.io/distroless/static:nonroot", None),
    ("registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9", None),
    ("[::1]:5000/x:y", "[::1]:5000/x:y", None),
    ("127.0.0.1:5000/a/b/c", "127.0.0.1:5000/a/b/c:latest", None),
    ("a__b/c-d--e/f.g:t_1.2-3", "docker.io/a__b/c-d--e/f.g:t_1.2-3", None),
    (f"nginx@{H}", f"docker.io/library/nginx@{H}", f"nginx@{H}"),  # no `latest` beside a digest
    (f"nginx:1.27@{H}", f"docker.io/library/nginx:1.27@{H}", f"nginx:1.27@{H}"),
    (f"localhost:5000/app@{H}", f"localhost:5000/app@{H}", None),
]


@pytest.mark.parametrize("text, full, familiar", NORMALISED)
def test_normalised_as_docker_does(text: str, full: str, familiar: str | None) -> None:
    assert normalize(text) == full
    assert parse(full) == parse(text).with_default_tag()  # the full form parses back to the same reference
    assert parse(text).familiar() == (familiar if familiar is not None else full.replace(":latest", "", 1)
                                      if text.count(":") < full.count(":") else text)


def test_parts() -> None:
    ref = parse(f"quay.io/prometheus/node-exporter:v1.8.0@{H}")
    assert ref == Reference("quay.io", "prometheus/node-exporter", "v1.8.0", H)
    assert (ref.name, ref.family) == ("quay.io/prometheus/node-exporter", "node-exporter")
    assert parse("nginx").tag is None and parse("nginx").with_default_tag().tag == "latest"
    assert parse(f"nginx@{H}").with_default_tag().tag is None


@pytest.mark.parametrize("name, domain, rest", [
    ("nginx", "docker.io", "library/nginx"),
    ("a/b", "docker.io", "a/b"),
    ("a.b/c", "a.b", "c"),
    ("a:1/c", "a:1", "c"),
    ("localhost/c", "localhost", "c"),
    ("LocalHost/c", "LocalHost", "c"),
    ("index.docker.io/a/b", "docker.io", "a/b"),
])
def test_split_domain(name: str, domain: str, rest: str) -> None:
    assert split_domain(name) == (domain, rest)


@pytest.mark.parametrize("text, says", [
    ("", "non-empty"),
    (" nginx", "white space"),
    ("Nginx", "lowercase"),  # one component: not a host, and a repository must be lower case
    ("docker.io/Library/nginx", "lowercase"),
    ("nginx:", "invalid tag"),
    ("nginx:-1", "invalid tag"),
    ("nginx:" + "a" * 129, "invalid tag"),
    ("nginx@sha256:abc", "invalid digest"),
    ("nginx@sha256:" + "A" * 64, "64 lower-case hex"),
    ("nginx@sha256:" + "a" * 63, "64 lower-case hex"),
    ("a" * 64, "64 hex"),
    ("{{ .Values.image }}", "invalid"),
    ("${IMAGE}", "invalid"),
    ("a//b", "invalid repository name component"),
    ("a/b_", "invalid repository name component"),
    ("-a.b/c", "invalid registry host"),
    ("docker.io/" + "a" * 250, "longer than 255"),
])
def test_invalid(text: str, says: str) -> None:
    with pytest.raises(ReferenceError, match=re.escape(says)):
        parse(text)


def test_tag_limit_and_other_digest_algorithms() -> None:
    assert parse("nginx:" + "a" * 128).tag == "a" * 128
    assert parse("x@sha512:" + "f" * 128).digest == "sha512:" + "f" * 128
    assert parse("x@multihash+base58:" + "f" * 32).digest is not None  # unknown algorithms: any 32+ hex


CORPUS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def test_every_literal_image_in_the_corpus_parses() -> None:
    """Each `image:` value in the corpus without template syntax is a reference kharden can normalise."""
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS}")
    seen = set()
    pattern = re.compile(r"^\s*-?\s*image:\s*['\"]?([^'\"\s#]+)['\"]?\s*$", re.M)
    for path in CORPUS.rglob("*.y*ml"):
        seen.update(pattern.findall(path.read_text(errors="replace")))
    literal = {s for s in seen if not re.search(r"[{}$<>%]", s)}
    assert len(literal) > 50
    bad = sorted(s for s in literal if not _parses(s))
    assert bad == ["gcr.io/docker-images-directory/apps/"], bad  # a kubeaudit fixture; `docker pull` refuses it too


def _parses(text: str) -> bool:
    try:
        parse(text)
    except ReferenceError:
        return False
    return True
