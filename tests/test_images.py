"""Image checks, lock files, `fix --pin-images` and `images lock` against a real registry (docker-registry + skopeo).
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
from typing import Any, Iterator

import pytest
import yaml
from click.testing import CliRunner

from kharden.checks.images import Options as ImagesOptions, problems
from kharden.cli import cli
from kharden.images.lock import dump_lock, read_lock
from tests.conftest import CORPUS, corpus_files
from tests.integration_helpers import kharden
from tests.registry_helpers import Registry, image, oci_layout, registry

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def rules(img: str, **container: Any) -> list[str]:
    opts = ImagesOptions(require_digest=container.pop("requireDigest", False),
                         allowed_registries=tuple(container.pop("allowedRegistries", [])), pull_policy=True)
    return [p[0] for p in problems(img, {"image": img, **container}, opts)]


@pytest.mark.parametrize("img, extra, expected", [
    ("nginx:latest", {}, ["image.latest-tag"]),
    ("redis", {}, ["image.untagged"]),
    ("redis", {"imagePullPolicy": "IfNotPresent"}, ["image.untagged", "image.pull-policy"]),
    ("nginx:1.27", {}, ["image.pull-policy"]),  # the default IfNotPresent for a mutable tag
    ("nginx:1.27", {"imagePullPolicy": "Always"}, []),
    ("nginx:1.27", {"requireDigest": True, "imagePullPolicy": "Always"}, ["image.tag-only"]),
    (f"nginx:1.27@{D1}", {"requireDigest": True, "imagePullPolicy": "IfNotPresent"}, []),
    (f"nginx@{D1}", {"requireDigest": True}, []),
    ("quay.io/x/y:1", {"allowedRegistries": ["docker.io"], "imagePullPolicy": "Always"}, ["image.registry"]),
    ("nginx:1", {"allowedRegistries": ["docker.io"], "imagePullPolicy": "Always"}, []),
    ("index.docker.io/library/nginx:1", {"allowedRegistries": ["docker.io/library"], "imagePullPolicy": "Always"},
     []),
    ("ghcr.io/other/app:1", {"allowedRegistries": ["ghcr.io/mine"], "imagePullPolicy": "Always"},
     ["image.registry"]),
    ("app:<%= sha %>", {}, ["image.invalid"]),
])
def test_image_rules(img: str, extra: dict[str, Any], expected: list[str]) -> None:
    assert rules(img, **extra) == expected


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  initContainers:
  - {name: init, image: "busybox:1.36"}
  containers:
  - name: app
    image: nginx:1.27   # the web server
  - {name: pinned, image: "redis:7@%s"}
  ephemeralContainers:
  - {name: debug, image: busybox}
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: r}
spec:
  template:
    spec:
      containers:
      - {name: app, image: "ghcr.io/acme/app:2.0"}
""" % D2

PROFILE = """\
extends: restricted
podTemplates:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, path: spec.template}
checks:
  images: {requireDigest: true}
"""


def _files(tmp_path: pathlib.Path, lock: str) -> tuple[pathlib.Path, pathlib.Path, pathlib.Path]:
    (tmp_path / "in.yaml").write_text(POD)
    (tmp_path / "profile.yaml").write_text(PROFILE)
    (tmp_path / "lock.yaml").write_text(lock)
    return tmp_path / "in.yaml", tmp_path / "profile.yaml", tmp_path / "lock.yaml"


def _invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_check_reports_every_container_kind_with_lines(tmp_path: pathlib.Path) -> None:
    manifest, profile, _ = _files(tmp_path, "{}")
    found = json.loads(_invoke("check", "--profile", str(profile), "--format", "json", str(manifest)).stdout)
    mine = {(f["rule"], f["line"]) for f in found if f["rule"].startswith("image.")}
    assert mine == {("image.tag-only", 6), ("image.pull-policy", 6), ("image.tag-only", 9), ("image.pull-policy", 8),
                    ("image.untagged", 12), ("image.tag-only", 21), ("image.pull-policy", 21)}


def test_pin_images_from_a_plain_lock(tmp_path: pathlib.Path) -> None:
    lock = f"busybox:1.36: {D1}\nnginx:1.27: docker.io/library/nginx@{D2}\nghcr.io/acme/app:2.0: {D1}\n"
    manifest, profile, lock_file = _files(tmp_path, lock)
    result = _invoke("fix", "--profile", str(profile), "--no-generate", "--pin-images", str(lock_file), str(manifest))
    out = result.stdout
    assert f'image: "busybox:1.36@{D1}"' in out
    assert f'image: "nginx:1.27@{D2}"   # the web server' in out, "the comment stays"
    assert f'image: "redis:7@{D2}"' in out, "pinned already: left as it is"
    assert f'image: "ghcr.io/acme/app:2.0@{D1}"' in out, "a CRD pod template is pinned too"
    pod = next(yaml.safe_load_all(out))
    assert pod["spec"]["ephemeralContainers"][0]["image"] == "busybox", "not in the lock: not guessed"
    assert "[image.not-in-lock] image busybox is not in the lock" in result.stderr
    assert "pinImages: 3" in result.stderr
    second = tmp_path / "second.yaml"
    second.write_text(out)
    again = _invoke("fix", "--profile", str(profile), "--no-generate", "--pin-images", str(lock_file), str(second))
    assert again.stdout == out and "pinImages" not in again.stderr


def test_kbld_lock_shapes_are_read() -> None:
    images_lock = f"""\
apiVersion: imgpkg.carvel.dev/v1alpha1
kind: ImagesLock
images:
- image: index.docker.io/library/nginx@{D1}
  annotations:
    kbld.carvel.dev/id: nginx:1.27
"""
    config = f"""\
apiVersion: kbld.k14s.io/v1alpha1
kind: Config
minimumRequiredVersion: 0.17.0
overrides:
- image: redis:7
  newImage: index.docker.io/library/redis@{D2}
  preresolved: true
- image: app:1
  newImage: mirror.example.com/app@{D2}
  preresolved: true
"""
    lock = read_lock(images_lock + "---\n" + config)
    assert lock.digest_for("docker.io/library/nginx:1.27") == D1
    assert lock.digest_for("redis:7") == D2
    assert lock.digest_for("app:1") is None and "docker.io/library/app:1" in lock.elsewhere


def test_a_lock_that_is_not_one_is_refused(tmp_path: pathlib.Path) -> None:
    manifest, _, lock_file = _files(tmp_path, "- just\n- a list\n")
    proc = kharden("fix", "--pin-images", str(lock_file), str(manifest))
    assert proc.returncode == 2 and "lock" in proc.stderr
    lock_file.write_text("nginx:1.27: sha256:short\n")
    proc = kharden("fix", "--pin-images", str(lock_file), str(manifest))
    assert proc.returncode == 2 and "digest" in proc.stderr


def test_dump_lock_reads_back() -> None:
    text = dump_lock({"nginx:1.27": D1, "redis": D2})
    assert read_lock(text).digests == {"docker.io/library/nginx:1.27": D1, "docker.io/library/redis:latest": D2}


# -- against a real registry ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, dict[str, str]]]:
    """A registry with a single-platform image and a multi-arch one; their digests as the layout names them."""
    layout = oci_layout(tmp_path_factory.mktemp("layout"), {
        "single": image(user="101"),
        "multi": [image(user="1", architecture="amd64"), image(user="2", architecture="arm64", variant="v8")],
    })
    index = json.loads((layout / "index.json").read_text())
    digests = {m["annotations"]["org.opencontainers.image.ref.name"]: m["digest"] for m in index["manifests"]}
    with registry() as reg:
        reg.push(layout, "single", "team/web:1.0")
        reg.push(layout, "multi", "team/multi:2")
        yield reg, digests


def test_images_lock_then_pin_against_a_real_registry(pushed: tuple[Registry, dict[str, str]],
                                                      tmp_path: pathlib.Path) -> None:
    reg, digests = pushed
    manifest = tmp_path / "app.yaml"
    manifest.write_text(f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      initContainers:
      - {{name: init, image: "{reg.host}/team/multi:2"}}
      containers:
      - {{name: web, image: "{reg.host}/team/web:1.0"}}
      - {{name: gone, image: "{reg.host}/team/missing:1"}}
""")
    lock = tmp_path / "images.lock"
    proc = kharden("images", "lock", str(manifest), "-o", str(lock),
                   env={"HOME": str(tmp_path)})  # no user cache or credentials: a clean resolve
    assert proc.returncode == 1, proc.stderr  # one image could not be resolved, and it says which
    assert "team/missing:1: not resolved" in proc.stderr
    pins = yaml.safe_load(lock.read_text())
    assert pins == {f"{reg.host}/team/multi:2": digests["multi"], f"{reg.host}/team/web:1.0": digests["single"]}
    fixed = kharden("fix", "--profile", "strict", "--no-generate", "--pin-images", str(lock), str(manifest))
    assert fixed.returncode == 0, fixed.stderr
    assert f'"{reg.host}/team/multi:2@{digests["multi"]}"' in fixed.stdout, "multi-arch: the index digest"
    assert "[image.not-in-lock]" in fixed.stderr and "team/missing:1" in fixed.stderr
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(fixed.stdout)
    found = json.loads(kharden("check", "--profile", "strict", "--format", "json", str(pinned)).stdout)
    left = {(f["rule"], f.get("container")) for f in found if f["rule"].startswith("image.")}
    assert left == {("image.tag-only", "gone"), ("image.pull-policy", "gone")}, "only the image the registry lacks"


def test_images_lock_walks_the_tree_as_fix_does(pushed: tuple[Registry, dict[str, str]],
                                                tmp_path: pathlib.Path) -> None:
    """A .gitignored manifest and an --exclude'd one are not read (their images would be looked up and fail), nor
    a chart or a kustomization; the one walk is kharden.files.discover."""
    reg, digests = pushed
    pod = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  containers:\n  - {{name: a, image: \"{image}\"}}\n"
    tree = tmp_path / "repo"
    for rel, image in (("app.yaml", f"{reg.host}/team/web:1.0"), ("rendered/out.yaml", f"{reg.host}/team/ignored:1"),
                       ("vendor/x.yaml", f"{reg.host}/team/excluded:1"), ("chart/templates/p.yaml", "{{ .Values.image }}")):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(pod.format(name=rel.split("/")[0].split(".")[0], image=image))
    (tree / ".gitignore").write_text("rendered/\n")
    (tree / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (tree / "kustomization.yaml").write_text("resources: [app.yaml]\n")
    env = {"HOME": str(tmp_path)}
    proc = kharden("images", "lock", str(tree), "--exclude", "vendor", "-v", env=env)
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load(proc.stdout) == {f"{reg.host}/team/web:1.0": digests["single"]}
    assert "1 file(s) skipped" in proc.stderr and "kustomization.yaml" in proc.stderr  # screened as fix screens
    assert "Helm chart" in proc.stderr
    unexcluded = kharden("images", "lock", str(tree), env=env)  # the control: without --exclude, vendor/ is read
    assert unexcluded.returncode == 1 and "team/excluded:1: not resolved" in unexcluded.stderr
    assert "ignored" not in unexcluded.stderr


def test_platform_digest_pins_the_platform_manifest(pushed: tuple[Registry, dict[str, str]],
                                                    tmp_path: pathlib.Path) -> None:
    reg, digests = pushed
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
                        f"  - {{name: a, image: \"{reg.host}/team/multi:2\"}}\n")
    proc = kharden("images", "lock", str(manifest), "--platform", "linux/arm64", "--platform-digest",
                   env={"HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    (digest,) = yaml.safe_load(proc.stdout).values()
    assert digest != digests["multi"] and digest.startswith("sha256:")


# -- the corpus, pinned from a lock made by the local registry, then judged by checkov ------------------------------
def _corpus_images() -> list[str]:
    from kharden.images.locking import references
    from kharden.images.locking import readable_objects as checkable

    objects, _ = checkable([str(CORPUS)], None)
    return references(objects, None)


@pytest.fixture(scope="module")
def corpus_lock(pushed: tuple[Registry, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[pathlib.Path, list[str]]:
    """Every corpus image mirrored into the local registry (one small image under each repository and tag), resolved
    through the registry client, and the lock written under the corpus's own spelling of each reference."""
    if not corpus_files():
        pytest.skip("third-party corpus not found (set KHARDEN_CORPUS)")
    from kharden.images.lock import dump_lock
    from kharden.images.reference import parse
    from kharden.images.registry import Client

    reg, _ = pushed
    tmp = tmp_path_factory.mktemp("corpus-lock")
    images = _corpus_images()
    mirror = {}
    for i, img in enumerate(images):
        ref = parse(img).with_default_tag()
        mirror[img] = _tag(reg, f"{ref.domain.replace(':', '-')}/{ref.path}", str(ref.tag), i)
    client = Client(cache_dir=str(tmp / "cache"))
    found = client.resolve_all(mirror.values())
    pins = {img: found[m].digest for img, m in mirror.items()}  # type: ignore[union-attr]
    lock = tmp / "corpus.lock"
    lock.write_text(dump_lock(pins))
    return lock, images


def _tag(reg: Registry, repository: str, tag: str, n: int) -> str:
    """A tiny image of its own (a config blob, no layers) put under repository:tag through the distribution API
    (monolithic blob upload, then the manifest): a skopeo run per corpus image would take a minute."""
    import hashlib
    import urllib.request

    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"User": "1000", "Labels": {"n": str(n)}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    base = f"http://{reg.host}/v2/{repository}"
    start = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST"), timeout=10)
    location = start.headers["Location"]
    location = (location if location.startswith("http") else f"http://{reg.host}{location}")
    sep = "&" if "?" in location else "?"
    urllib.request.urlopen(urllib.request.Request(f"{location}{sep}digest={digest}", data=config, method="PUT",
                                                  headers={"Content-Type": "application/octet-stream"}), timeout=10)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest,
                                      "size": len(config)}, "layers": []}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{base}/manifests/{tag}", data=manifest, method="PUT", headers={
        "Content-Type": "application/vnd.oci.image.manifest.v1+json"}), timeout=10)
    return f"{reg.host}/{repository}:{tag}"


def test_corpus_pinned_from_the_local_registry(corpus_lock: tuple[pathlib.Path, list[str]],
                                               tmp_path: pathlib.Path) -> None:
    lock, images = corpus_lock
    from kharden.images.locking import readable_objects as checkable

    out = tmp_path / "out"
    fixable = [p.relative_to(CORPUS) for p in corpus_files() if not checkable([str(p)], None)[1]]
    tree = tmp_path / "tree"  # the readable files in their folders: -o mirrors a tree (files named alone collide)
    for rel in fixable:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, tree / rel)
    proc = kharden("fix", "--profile", "restricted", "--no-generate", "--pin-images", str(lock), "-o", str(out),
                   str(tree))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "image.not-in-lock" not in proc.stderr
    found = json.loads(kharden("check", "--profile", "strict", "--format", "json", str(out)).stdout)
    left = [f for f in found if f["rule"] in ("image.latest-tag", "image.untagged", "image.tag-only",
                                               "image.pull-policy")]
    assert left == [], left[:3]
    _checkov(out)


def _checkov(directory: pathlib.Path) -> None:
    """checkov's image checks on the pinned corpus, when checkov is installed (it is not a test dependency: it
    brings ~290 MB; `pip install checkov` to run this part). Every object whose containers all carry a pinned image
    passes CKV_K8S_14, 15 and 43; checkov still fails the corpus's objects with a container without an image or
    with an unrendered template for one, which no lock can pin."""
    checkov = os.environ.get("KHARDEN_CHECKOV") or shutil.which("checkov")
    if not checkov:
        pytest.skip("checkov is not installed (pip install checkov, or set KHARDEN_CHECKOV): kharden's own image "
                    "checks passed")
    proc = subprocess.run([checkov, "-d", str(directory), "--framework", "kubernetes", "--check",
                           "CKV_K8S_14,CKV_K8S_15,CKV_K8S_43", "-o", "json", "--skip-download"],
                          capture_output=True, text=True, timeout=600)
    reports = json.loads(proc.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    failed = {(c["file_path"].lstrip("/"), c["resource"]) for r in reports
              for c in (r.get("results") or {}).get("failed_checks", [])}
    passed = {(c["file_path"].lstrip("/"), c["resource"]) for r in reports
              for c in (r.get("results") or {}).get("passed_checks", [])}
    pinned, unpinnable = _objects_by_images(directory)
    assert passed & pinned, "checkov judged none of the pinned objects"
    assert not failed & pinned, sorted(failed & pinned)[:5]
    assert failed <= unpinnable, sorted(failed - unpinnable)[:5]


def _objects_by_images(directory: pathlib.Path) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(file, checkov resource id) of the objects whose every container image is pinned, and of the others."""
    from kharden.find.podspecs import find_pod_targets
    from kharden.read import parse_text

    pinned, other = set(), set()
    for path in directory.rglob("*"):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        for obj in parse_text(path.read_text(), str(path)).objects():
            images = [c.get("image") for t in find_pod_targets(obj) for _, c in t.containers()]
            if not images:
                continue
            rid = f"{obj.ref.kind}.{obj.ref.namespace or 'default'}.{obj.ref.name}"
            key = (str(path.relative_to(directory)), rid)
            (pinned if all(isinstance(i, str) and "@" in i for i in images) else other).add(key)
    return pinned, other
