"""Opting out of digest pinning (issue 22): `skip.kharden.dev/pinImages[.<container>]: "<reason>"`, spelled as
every kharden opt-out (docs/mutators.md), is honoured by `fix --pin-images` and reported."""

from __future__ import annotations

import pathlib

import yaml

from tests.integration_helpers import kharden

D1 = "sha256:" + "1" * 64
LOCK = f"busybox:1.36: {D1}\nnginx:1.27: {D1}\nredis:7: {D1}\n"
POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
    ANNOTATION
spec:
  initContainers:
  - {name: init, image: "busybox:1.36"}
  containers:
  - {name: app, image: "nginx:1.27"}
  - {name: cache, image: "redis:7@%s"}
---
apiVersion: v1
kind: Pod
metadata: {name: other}
spec:
  containers:
  - {name: app, image: "nginx:1.27"}
""" % D1


def _fix(tmp_path: pathlib.Path, annotation: str):
    (tmp_path / "lock.yaml").write_text(LOCK)
    (tmp_path / "in.yaml").write_text(POD.replace("ANNOTATION", annotation))
    done = kharden("fix", "--no-generate", "--pin-images", str(tmp_path / "lock.yaml"), str(tmp_path / "in.yaml"))
    assert done.returncode == 0, done.stderr
    pods = {d["metadata"]["name"]: d for d in yaml.safe_load_all(done.stdout)}
    images = {(n, c["name"]): c["image"] for n, d in pods.items()
              for c in d["spec"].get("initContainers", []) + d["spec"]["containers"]}
    return images, done.stderr


def test_a_workload_opted_out_keeps_its_tags_and_says_why(tmp_path) -> None:
    images, stderr = _fix(tmp_path, 'skip.kharden.dev/pinImages: "follows the nightly tag"')
    assert images[("p", "init")] == "busybox:1.36" and images[("p", "app")] == "nginx:1.27"
    assert images[("other", "app")] == f"nginx:1.27@{D1}"  # the other workload is pinned
    assert "pinImages: 1" in stderr
    line = [ln for ln in stderr.splitlines() if "[kharden.pinImages]" in ln]
    assert len(line) == 1 and "note [kharden.pinImages] pinImages opted out for the workload" in line[0], stderr
    assert line[0].count("follows the nightly tag") == 1 and "in.yaml:6:" in line[0]
    assert "unknown-opt-out" not in stderr


def test_one_container_opted_out(tmp_path) -> None:
    images, stderr = _fix(tmp_path, 'skip.kharden.dev/pinImages.app: "a throwaway build"')
    assert images[("p", "app")] == "nginx:1.27"
    assert images[("p", "init")] == f"busybox:1.36@{D1}" and images[("other", "app")] == f"nginx:1.27@{D1}"
    assert "pinImages opted out for container app (a throwaway build)" in stderr, stderr


def test_an_opt_out_that_spares_nothing_is_reported_as_not_needed(tmp_path) -> None:
    images, stderr = _fix(tmp_path, 'skip.kharden.dev/pinImages.cache: "pinned by hand"')
    assert images[("p", "cache")] == f"redis:7@{D1}" and images[("p", "app")] == f"nginx:1.27@{D1}"
    assert "[kharden.unneeded-opt-out] skip.kharden.dev/pinImages.cache: not needed, pinImages would change " \
           "nothing for container cache" in stderr, stderr
    assert "opted out for" not in stderr


def test_without_a_lock_the_annotation_is_known_and_silent(tmp_path) -> None:
    (tmp_path / "in.yaml").write_text(POD.replace("ANNOTATION", 'skip.kharden.dev/pinImages: "nightly"'))
    done = kharden("fix", "--no-generate", str(tmp_path / "in.yaml"))
    assert done.returncode == 0 and "pinImages" not in done.stderr and "unknown-opt-out" not in done.stderr


def test_check_says_who_chose_to_keep_the_tag(tmp_path) -> None:
    import json

    (tmp_path / "profile.yaml").write_text("extends: restricted\nchecks:\n  images: {requireDigest: true}\n")
    (tmp_path / "in.yaml").write_text(POD.replace("ANNOTATION", 'skip.kharden.dev/pinImages.app: "a throwaway"'))
    found = json.loads(kharden("check", "--profile", str(tmp_path / "profile.yaml"), "--format", "json",
                               str(tmp_path / "in.yaml")).stdout)
    tag_only = {(f["name"], f["container"]): f for f in found if f["rule"] == "image.tag-only"}
    assert tag_only[("p", "app")]["reason"] == "opted out of pinning (skip.kharden.dev/pinImages.app): a throwaway"
    assert tag_only[("p", "app")]["severity"] == "violation"  # the profile's rule still stands
    assert "opted out" not in tag_only[("p", "init")]["reason"] and "opted out" not in tag_only[("other", "app")][
        "reason"]


def test_an_opt_out_naming_no_container_is_reported(tmp_path) -> None:
    images, stderr = _fix(tmp_path, 'skip.kharden.dev/pinImages.nosuch: "typo"')
    assert images[("p", "app")] == f"nginx:1.27@{D1}"
    assert "[kharden.unneeded-opt-out] skip.kharden.dev/pinImages.nosuch: the pod has no container nosuch" in stderr
