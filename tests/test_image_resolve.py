"""`kharden fix --resolve-images` against a real registry (Debian's docker-registry, images pushed with skopeo)."""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest
import yaml
from click.testing import CliRunner

from kharden.cli import cli
from tests.registry_helpers import Registry, image, oci_layout, passwd, registry

WEB = image(user="web", volumes=["/srv/data", "/srv/seed"], ports=["80"], entrypoint=["/srv/run"],
            layers=[passwd(("web", 4321, 4322)), {"srv/": None, "srv/data/": None, "srv/seed/": None,
                                                  "srv/seed/index.html": "hello"}])


# What nginx's official Dockerfile sets (nginxinc/docker-nginx mainline/debian/Dockerfile): no USER, its ENV.
MIRRORED_NGINX = image(env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.27.4",
                            "NJS_VERSION=0.8.9", "PKG_RELEASE=1~bookworm"], ports=["80"],
                       entrypoint=["/docker-entrypoint.sh"], cmd=["nginx", "-g", "daemon off;"])


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    layout = oci_layout(tmp_path_factory.mktemp("layout"), {"v1": WEB, "redis": image(user="", volumes=["/data"]),
                                                            "nginx": MIRRORED_NGINX})
    with registry() as r:
        r.push(layout, "v1", "team/web:v1")
        r.push(layout, "redis", "library/redis:7")  # a registry's redis: the catalog completes its config
        r.push(layout, "nginx", "mirror/library/nginx:1")
        yield r


def _fix(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, images: dict[str, str], *args: str) -> tuple:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for proxy in ("https_proxy", "http_proxy", "HTTPS_PROXY", "HTTP_PROXY"):  # nothing leaves the machine:
        monkeypatch.setenv(proxy, "http://127.0.0.1:1")  # Docker Hub and co. fail at once, as if offline
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    manifest = tmp_path / "pod.yaml"
    manifest.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                                        "spec": {"containers": [{"name": n, "image": i} for n, i in images.items()]}}))
    result = CliRunner().invoke(cli, ["fix", "--no-generate", *args, str(manifest)])
    assert result.exit_code == 0, result.output
    out = yaml.safe_load(result.stdout)
    return out["spec"], result.stderr


def test_resolve_images_reads_user_volumes_and_ports_from_the_registry(
        reg: Registry, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, report = _fix(tmp_path, monkeypatch, {"web": f"{reg.host}/team/web:v1"}, "--resolve-images")
    sc = spec["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["fsGroup"]) == (4321, 4322, 4322)  # USER web, from /etc/passwd
    assert sc["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]  # EXPOSE 80
    mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
    assert mounts == ["/tmp", "/srv/data"]  # the empty VOLUME only: /srv/seed holds the image's content
    assert "from registry" in report and "VOLUME /srv/seed holds image content" in report
    # A second run (its facts cached by digest) decides the same.
    again, _ = _fix(tmp_path, monkeypatch, {"web": f"{reg.host}/team/web:v1"}, "--resolve-images")
    assert again == spec


def test_offline_by_default(reg: Registry, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, report = _fix(tmp_path, monkeypatch, {"web": f"{reg.host}/team/web:v1"})
    assert spec["securityContext"]["runAsUser"] == 10001 and "unknown to kharden" in report
    assert not (tmp_path / "cache" / "kharden").exists()


def test_root_image_with_an_empty_volume_beside_a_catalogued_one(
        reg: Registry, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, report = _fix(tmp_path, monkeypatch, {"cache": f"{reg.host}/library/redis:7", "std": "redis:7"},
                        "--resolve-images")
    # The registry's image starts as root and its layers hold nothing in VOLUME /data: an emptyDir is safe there.
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/tmp", "/data"]
    # redis:7 is on Docker Hub, which the tests never reach: its lookup fails, and the catalog speaks for it.
    assert "container std: its image config could not be read" in report and "from catalog (redis)" in report
    assert spec["securityContext"]["runAsUser"] == 999  # the one user the containers' images name


def test_unreachable_registry_falls_back_to_the_catalog_and_says_so(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, report = _fix(tmp_path, monkeypatch, {"web": "127.0.0.1:1/library/nginx:1.27"}, "--resolve-images")
    assert "cannot be reached" in report and "kharden went on with its defaults" in report
    assert spec["securityContext"]["runAsUser"] == 10001


def test_a_mirrored_official_image_is_recognised_by_its_config(
        reg: Registry, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec, report = _fix(tmp_path, monkeypatch, {"web": f"{reg.host}/mirror/library/nginx:1"}, "--resolve-images")
    assert spec["securityContext"]["runAsUser"] == 101
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/tmp", "/var/cache/nginx", "/var/run"]
    assert "from registry + catalog" in report and "recognised by its config: Env NGINX_VERSION, USER root" in report


def test_layers_over_a_limit_leave_the_config_alone_and_say_so(
        reg: Registry, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kharden.images import layers, learn

    monkeypatch.setattr(learn, "LIMITS", layers.Limits(entries=2))
    spec, report = _fix(tmp_path, monkeypatch, {"web": f"{reg.host}/team/web:v1"}, "--resolve-images")
    assert "its image layers could not be read: the layers of" in report and "more than 2 entries" in report
    assert "kharden went on with the image config alone" in report
    # USER web has no number without /etc/passwd: the default user; the VOLUMEs' content is unknown: no emptyDir.
    assert spec["securityContext"]["runAsUser"] == 10001
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/tmp"]
    assert "VOLUME /srv/data may hold image content" in report
