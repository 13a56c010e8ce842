"""Image-aware decisions: the catalog, --image-config, and what the mutators do with what each image needs."""

from __future__ import annotations

import json
import pathlib
import re
from typing import Any

import pytest
import yaml

from kharden.images import catalog
from kharden.images.configfile import load
from kharden.images.facts import ImageFacts
from kharden.know.images import Knowledge
from kharden.read import parse_text
from kharden.run import fix_sources

CORPUS = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


def pod(*containers: dict[str, Any], **spec: Any) -> str:
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                           "spec": {**spec, "containers": list(containers)}}, sort_keys=False)


def fix(text: str, knowledge: Knowledge | None = None, profile: str = "restricted", **image_options: Any) -> Any:
    outcome = fix_sources([parse_text(text, "in.yaml")], profile, generate=False,
                          image_options=image_options or None)
    if knowledge is not None:  # the pipeline given knowledge directly (what the edge would have learned)
        from kharden.pipeline import Request, run
        from kharden.profile import load_profile

        return run(Request([parse_text(text, "in.yaml")], load_profile(profile), generate=False, images=knowledge))
    return outcome


def spec_of(outcome: Any) -> dict[str, Any]:
    return yaml.safe_load(outcome.stream())["spec"]


def notes(outcome: Any) -> list[str]:
    return [f.message for f in outcome.result.findings if f.rule == "kharden.image"]


# -- the catalog ---------------------------------------------------------------------------------------------------

def test_catalog_has_the_images_the_issue_names_each_with_a_source() -> None:
    families = {e["family"] for e in catalog.entries()}
    assert len(families) == len(catalog.entries()) >= 30
    assert {"nginx", "nginx-unprivileged", "httpd", "caddy", "traefik", "haproxy", "redis", "valkey", "memcached",
            "postgres", "mysql", "mariadb", "mongo", "rabbitmq", "elasticsearch", "grafana", "prometheus",
            "alertmanager", "node-exporter", "busybox", "alpine", "distroless", "bitnami", "node",
            "python"} <= families
    for entry in catalog.entries():
        assert re.search(r"github\.com|docs|launchpad|Dockerfile", entry["source"]), entry["family"]


@pytest.mark.parametrize("image, family, user, group", [
    ("nginx", "nginx", 101, 101),
    ("docker.io/library/nginx:1.27-alpine", "nginx", 101, 101),
    ("public.ecr.aws/docker/library/redis:7", "redis", 999, 999),
    ("redis:7.2-alpine", "redis", 999, 1000),
    ("postgres:16", "postgres", 999, 999),
    ("postgres:16-alpine", "postgres", 70, 70),
    ("quay.io/prometheus/prometheus:v2.54.1", "prometheus", 65534, 65534),
    ("prom/node-exporter", "node-exporter", 65534, 65534),
    ("gcr.io/distroless/static:nonroot", "distroless", 65532, 65532),
    ("gcr.io/distroless/base-debian12:debug-nonroot", "distroless", 65532, 65532),
    ("gcr.io/distroless/static", "distroless", None, None),
    ("bitnami/redis:7.2", "bitnami", 1001, 0),
    ("busybox:1.36", "busybox", None, None),
    ("registry.k8s.io/pause:3.9", "pause", 65535, 65535),
])
def test_catalog_lookup(image: str, family: str, user: int | None, group: int | None) -> None:
    facts = catalog.lookup(image)
    assert facts is not None and (facts.family, facts.user, facts.group) == (family, user, group)


def test_catalog_has_no_entry_for_unknown_or_invalid_images() -> None:
    assert catalog.lookup("example.com/team/app:1") is None
    assert catalog.lookup("nginxinc/other") is None
    assert catalog.lookup("{{ .Values.image }}") is None


def test_catalog_validation_names_the_problem() -> None:
    with pytest.raises(catalog.CatalogError, match="unknown key"):
        catalog.validate({"family": "x", "images": ["x"], "source": "s", "uid": 1})
    with pytest.raises(catalog.CatalogError, match="user 0 is root"):
        catalog.validate({"family": "x", "images": ["x"], "source": "s", "user": 0})
    with pytest.raises(catalog.CatalogError, match="absolute path"):
        catalog.validate({"family": "x", "images": ["x"], "source": "s", "writable": ["tmp"]})


# -- decisions -------------------------------------------------------------------------------------------------------

def test_nginx_gets_its_uid_its_writable_paths_and_the_port_sysctl() -> None:
    out = fix(pod({"name": "web", "image": "nginx:1.27"}))
    spec = spec_of(out)
    sc = spec["securityContext"]
    assert (sc["runAsUser"], sc["runAsGroup"], sc["fsGroup"]) == (101, 101, 101)
    assert sc["sysctls"] == [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}]
    mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
    assert mounts == ["/tmp", "/var/cache/nginx", "/var/run"]
    assert any("from catalog (nginx)" in n and "uid 101" in n for n in notes(out))
    assert fix(out.stream()).result.changes == []  # a second run changes nothing


def test_unknown_image_keeps_todays_defaults_and_says_so() -> None:
    out = fix(pod({"name": "app", "image": "example.com/app:1"}))
    spec = spec_of(out)
    assert spec["securityContext"]["runAsUser"] == 10001 and "sysctls" not in spec["securityContext"]
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/tmp"]
    assert any("unknown to kharden" in n and "--image-config" in n for n in notes(out))


def test_containers_whose_images_disagree_get_their_own_users() -> None:
    out = fix(pod({"name": "web", "image": "nginx"}, {"name": "db", "image": "postgres:16-alpine"},
                  {"name": "side", "image": "example.com/side"}))
    spec = spec_of(out)
    assert spec["securityContext"]["runAsUser"] == 10001  # no agreement: the default for the pod
    users = [c["securityContext"].get("runAsUser") for c in spec["containers"]]
    assert users == [101, 70, None]


def test_pod_level_user_agreed_by_the_images_that_know_one() -> None:
    spec = spec_of(fix(pod({"name": "db", "image": "redis:7"}, {"name": "tool", "image": "busybox"})))
    assert spec["securityContext"]["runAsUser"] == 999
    assert all("runAsUser" not in c["securityContext"] for c in spec["containers"])


def test_a_users_own_choice_is_never_changed() -> None:
    spec = spec_of(fix(pod({"name": "web", "image": "nginx"}, securityContext={"runAsUser": 2000})))
    assert spec["securityContext"]["runAsUser"] == 2000
    assert "sysctls" not in spec["securityContext"]  # kharden did not choose the user: it adds no sysctl


def test_a_pod_volume_at_or_above_a_writable_path_is_kept() -> None:
    """A PersistentVolume at /var/lib/postgresql holds the data directory: no emptyDir may hide it."""
    spec = spec_of(fix(pod({"name": "pg", "image": "postgres:16",
                            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql"}]},
                           volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": "pg"}}])))
    mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
    assert mounts == ["/var/lib/postgresql", "/tmp", "/var/run/postgresql"]


def test_host_network_gets_no_sysctl() -> None:
    spec = spec_of(fix(pod({"name": "web", "image": "nginx"}, hostNetwork=True), profile="baseline"))
    assert "sysctls" not in spec.get("securityContext", {})


def test_file_capability_is_kept_beside_drop_all() -> None:
    spec = spec_of(fix(pod({"name": "dns", "image": "registry.k8s.io/coredns/coredns:v1.11.1"})))
    caps = spec["containers"][0]["securityContext"]["capabilities"]
    assert caps == {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert "sysctls" not in spec["securityContext"]  # the binary binds port 53 with its file capability


def test_writes_into_image_content_leave_the_root_writable_and_say_why() -> None:
    out = fix(pod({"name": "r", "image": "bitnami/redis:7.2"}))
    spec = spec_of(out)
    assert "readOnlyRootFilesystem" not in spec["containers"][0]["securityContext"]
    assert spec["securityContext"]["runAsUser"] == 1001 and spec["securityContext"]["runAsGroup"] == 10001
    assert any("/opt/bitnami" in n and "left writable" in n for n in notes(out))


def test_entrypoint_that_must_start_as_root_keeps_root_and_its_capabilities() -> None:
    must = ImageFacts("catalog", family="legacy", image_user="", starts_as_root="required",
                      capabilities=("CHOWN", "SETUID", "SETGID"))
    text = pod({"name": "old", "image": "legacy:1"}, {"name": "new", "image": "example.com/new"})
    result = fix(text, Knowledge({"legacy:1": must}))
    spec = result.objects[0].data["spec"]
    old, new = (c["securityContext"] for c in spec["containers"])
    assert old["capabilities"] == {"drop": ["ALL"], "add": ["CHOWN", "SETUID", "SETGID"]}
    assert "runAsUser" not in old and "runAsNonRoot" not in old
    assert "runAsUser" not in spec["securityContext"] and "runAsNonRoot" not in spec["securityContext"]
    assert new["runAsNonRoot"] is True and new["runAsUser"] == 10001
    assert "add" not in new["capabilities"]
    warned = [f.message for f in result.findings if f.rule == "kharden.image" and f.severity == "warning"]
    assert any("must start as root" in w and "CHOWN SETUID SETGID" in w for w in warned)


# -- --image-config --------------------------------------------------------------------------------------------------

BLOB = {"architecture": "amd64", "os": "linux",
        "config": {"User": "4000:4001", "ExposedPorts": {"443/tcp": {}}, "Volumes": {"/cache": {}}}}


def test_image_config_by_file_name_overrides_the_catalog(tmp_path: pathlib.Path) -> None:
    (tmp_path / "nginx:1.27.json").write_text(json.dumps(BLOB))
    out = fix(pod({"name": "web", "image": "nginx:1.27"}), config_path=str(tmp_path))
    spec = spec_of(out)
    assert spec["securityContext"]["runAsUser"] == 4000 and spec["securityContext"]["runAsGroup"] == 4001
    mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
    assert mounts == ["/tmp", "/var/cache/nginx", "/var/run"]  # the catalog still knows what nginx writes
    assert any("config file + catalog" in n for n in notes(out))
    assert any("VOLUME /cache may hold image content" in n for n in notes(out))


def test_image_config_forms(tmp_path: pathlib.Path) -> None:
    digest = "sha256:" + "ab" * 32
    (tmp_path / "a.json").write_text(json.dumps([{"Id": "sha256:00", "RepoTags": ["team/app:2"],
                                                  "RepoDigests": [f"team/app@{digest}"], "Config": {"User": "7"}}]))
    (tmp_path / "quay.io+org+tool:v1.json").write_text(json.dumps({"config": {"User": "8"}}))
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"example.com/x:3": {"config": {"User": "9"}}}))
    index = load(str(tmp_path))
    assert index.match("docker.io/team/app:2")[0]["Config"]["User"] == "7"
    assert index.match(f"team/app@{digest}")[0]["Config"]["User"] == "7"
    assert index.match("quay.io/org/tool:v1")[0]["config"]["User"] == "8"
    assert index.match("example.com/x:3")[0]["config"]["User"] == "9"
    assert index.match("team/app:3") is None


def test_image_config_refuses_skopeo_inspect_without_config(tmp_path: pathlib.Path) -> None:
    from kharden.errors import InputError

    (tmp_path / "x.json").write_text(json.dumps({"Name": "docker.io/library/nginx", "Digest": "sha256:00"}))
    with pytest.raises(InputError, match="skopeo inspect --config"):
        load(str(tmp_path))


def test_named_user_from_the_catalog_becomes_numeric(tmp_path: pathlib.Path) -> None:
    """USER nobody: the kubelet refuses runAsNonRoot for a non-numeric user; the catalog gives 65534."""
    (tmp_path / "prom+prometheus:v2.json").write_text(json.dumps({"config": {"User": "nobody",
                                                                           "Volumes": {"/prometheus": {}}}}))
    out = fix(pod({"name": "p", "image": "prom/prometheus:v2"}), config_path=str(tmp_path))
    spec = spec_of(out)
    assert spec["securityContext"]["runAsUser"] == 65534
    assert "/prometheus" in [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]


# -- the third-party corpus ------------------------------------------------------------------------------------------

def test_catalogued_images_in_the_corpus_get_their_uid_and_writable_paths() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS}")
    from kharden.find import find_pod_targets
    from kharden.read import read_paths

    checked = 0
    for path in sorted(CORPUS.glob("apps/kubernetes-examples/**/*.yaml")):
        try:
            out = fix_sources(read_paths([str(path)]), "restricted", generate=False)
        except Exception:  # noqa: BLE001 - files kharden refuses are other tests' business
            continue
        for obj in out.result.objects:
            for target in find_pod_targets(obj):
                pod_sc = target.spec.get("securityContext") or {}
                for _, c in target.containers():
                    facts = catalog.lookup(c.get("image", ""))
                    if not facts or facts.user is None:
                        continue
                    sc = c.get("securityContext") or {}
                    assert facts.user in (sc.get("runAsUser"), pod_sc.get("runAsUser")), (path, c["name"])
                    mounted = {m["mountPath"] for m in c.get("volumeMounts") or []}
                    if sc.get("readOnlyRootFilesystem") is True:
                        assert all(any(w == m or w.startswith(m.rstrip("/") + "/") for m in mounted)
                                   for w in facts.writable), (path, c["name"])
                    checked += 1
    assert checked >= 3


def test_check_keeps_the_image_warnings_but_not_the_notes() -> None:
    from kharden.pipeline import Request, run
    from kharden.profile import load_profile

    text = pod({"name": "web", "image": "nginx"}, {"name": "r", "image": "bitnami/redis"})
    result = run(Request([parse_text(text, "in.yaml")], load_profile("restricted"), mode="check"))
    found = [f for f in result.findings if f.rule == "kharden.image"]
    assert [f.severity for f in found] == ["warning"] and "/opt/bitnami" in found[0].message


def test_windows_pods_get_no_image_notes() -> None:
    out = fix(pod({"name": "web", "image": "nginx"}, os={"name": "windows"}))
    assert notes(out) == []


def test_image_user_off_keeps_the_profiles_uid(tmp_path: pathlib.Path) -> None:
    (tmp_path / "p.yaml").write_text("extends: restricted\nmutators:\n  runAsUser: {runAsUser: 20000, imageUser: false}\n")
    spec = spec_of(fix(pod({"name": "web", "image": "nginx"}), profile=str(tmp_path / "p.yaml")))
    assert (spec["securityContext"]["runAsUser"], spec["securityContext"]["fsGroup"]) == (20000, 10001)
    assert "sysctls" in spec["securityContext"]  # port 80 as uid 20000 needs it just the same


def test_host_network_low_port_is_reported() -> None:
    out = fix(pod({"name": "web", "image": "nginx"}, hostNetwork=True))
    assert any("host network" in n and "80" in n for n in notes(out))


# -- an image under another name, recognised by its own config ---------------------------------------------------

NGINX_ENV = ["PATH=/usr/local/sbin:/usr/bin", "NGINX_VERSION=1.27.4", "NJS_VERSION=0.8.9", "PKG_RELEASE=1~bookworm"]


@pytest.mark.parametrize("config, image, family", [
    ({"Env": NGINX_ENV}, "mirror.example/library/nginx:1", "nginx"),
    ({"Env": NGINX_ENV}, "corp.example/web:3", "nginx"),  # built FROM nginx: its Env and USER are nginx's
    ({"Env": NGINX_ENV, "User": "101"}, "corp.example/web:3", "nginx-unprivileged"),  # USER tells the two apart
    ({"Env": NGINX_ENV, "User": "1000"}, "corp.example/web:3", None),  # a USER of its own: not nginx's facts
    ({"Env": ["PG_MAJOR=17", "PG_VERSION=17.9-1.pgdg12+1"]}, "127.0.0.1:5000/library/postgres:1", "postgres"),
    ({"Env": ["PG_MAJOR=17"]}, "127.0.0.1:5000/library/postgres:1", None),  # every marker, or none
    ({"Env": ["MEMCACHED_VERSION=1.6"], "User": "memcache"}, "m.example/cache:1", "memcached"),
    ({"Env": ["REDIS_VERSION=7.2.5"], "User": "0"}, "m.example/kv:1", "redis"),  # root as "0" is root as ""
    ({}, "mirror.example/library/nginx:1", None),  # the name alone is no evidence
])
def test_catalog_recognises_an_image_by_its_config(config: dict[str, Any], image: str, family: str | None) -> None:
    facts = catalog.recognise(config, image)
    assert (facts.family if facts else None) == family
    if facts:
        assert facts.recognised.startswith("recognised by its config: Env ") and facts.recognised in facts.evidence


def test_catalog_recognition_keeps_the_tag_variant() -> None:
    facts = catalog.recognise({"Env": ["PG_MAJOR=16", "PG_VERSION=16.4"]}, "m.example/library/postgres:16-alpine")
    assert facts is not None and facts.user == 70


def test_catalog_config_env_needs_names_and_an_image_user() -> None:
    entry = {"family": "x", "images": ["docker.io/library/x"], "source": "s", "configEnv": ["X_VERSION"]}
    with pytest.raises(catalog.CatalogError, match="configEnv"):
        catalog.validate(entry)
    with pytest.raises(catalog.CatalogError, match="configEnv"):
        catalog.validate({**entry, "imageUser": "", "configEnv": ["not a name"]})
    catalog.validate({**entry, "imageUser": ""})


def test_a_mirrored_official_image_gets_the_catalog_from_its_config_file(tmp_path: pathlib.Path) -> None:
    (tmp_path / "configs.json").write_text(json.dumps({"127.0.0.1:5000/library/nginx:1": {"config": {
        "Env": NGINX_ENV, "Entrypoint": ["/docker-entrypoint.sh"], "ExposedPorts": {"80/tcp": {}}}}}))
    out = fix(pod({"name": "web", "image": "127.0.0.1:5000/library/nginx:1"}), config_path=str(tmp_path))
    spec = spec_of(out)
    assert spec["securityContext"]["runAsUser"] == 101
    assert [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]] == ["/tmp", "/var/cache/nginx", "/var/run"]
    assert any("config file + catalog" in n and "catalog nginx recognised by its config: Env NGINX_VERSION, "
               "USER root" in n for n in notes(out))


def test_postgres_gets_its_emptydir_above_pgdata_where_the_entrypoint_makes_pgdata_its_own() -> None:
    """An emptyDir is root's (fsGroup only sets its group): initdb, as 999, cannot chmod one mounted at PGDATA
    itself. In its parent, the entrypoint's `mkdir -p $PGDATA` makes PGDATA 999's (tests/test_runtime.py runs it)."""
    for image, pgdata_parent in (("postgres:16", "/var/lib/postgresql"), ("postgres:18", "/var/lib/postgresql"),
                                 ("postgres:16-alpine", "/var/lib/postgresql")):
        spec = spec_of(fix(pod({"name": "pg", "image": image})))
        mounts = [m["mountPath"] for m in spec["containers"][0]["volumeMounts"]]
        assert pgdata_parent in mounts and "/var/lib/postgresql/data" not in mounts, (image, mounts)
