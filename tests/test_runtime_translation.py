"""The pod-to-OCI translation of the runtime proof, checked without a runtime (tests/runtime/, docs/runtime.md).

The runtime tests trust this translation to do what the kubelet and containerd do; these pin its decisions.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.runtime import kubelet, oci, volumes


def _pod(pod_context: dict | None = None, **container: object) -> tuple[dict, dict]:
    box = {"name": "app", "image": "x", **container}
    return {"securityContext": pod_context or {}, "containers": [box]}, box


@pytest.mark.parametrize(("pod_context", "context", "user", "refusal"), [
    ({"runAsNonRoot": True}, {}, "memcache", "image has non-numeric user (memcache), cannot verify user is non-root"),
    ({"runAsNonRoot": True}, {}, "", "image will run as root"),
    ({"runAsNonRoot": True}, {}, "0", "image will run as root"),
    ({"runAsNonRoot": True, "runAsUser": 0}, {}, "101", "runAsUser breaks non-root policy"),
    ({}, {"runAsNonRoot": True, "runAsUser": 0}, "101", "runAsUser breaks non-root policy"),
])
def test_run_as_non_root_is_refused_as_the_kubelet_refuses_it(pod_context: dict, context: dict, user: str,
                                                             refusal: str) -> None:
    pod, container = _pod(pod_context, securityContext=context)
    with pytest.raises(kubelet.Refused, match=refusal.replace("(", r"\(").replace(")", r"\)")):
        kubelet.verify_run_as_non_root(pod, container, {"User": user})


@pytest.mark.parametrize(("pod_context", "user"), [
    ({"runAsNonRoot": True, "runAsUser": 10001}, "memcache"),  # a numeric runAsUser settles it
    ({"runAsNonRoot": True}, "11211"),
    ({"runAsNonRoot": True}, "11211:11211"),
    ({}, ""),  # runAsNonRoot not asked for
])
def test_run_as_non_root_passes_what_the_kubelet_passes(pod_context: dict, user: str) -> None:
    pod, container = _pod(pod_context)
    kubelet.verify_run_as_non_root(pod, container, {"User": user})


@pytest.mark.parametrize(("container", "expected"), [
    ({}, ["docker-entrypoint.sh", "redis-server"]),
    ({"args": ["--port", "7000"]}, ["docker-entrypoint.sh", "--port", "7000"]),
    ({"command": ["redis-server"]}, ["redis-server"]),  # the image's Cmd is dropped with its Entrypoint
    ({"command": ["redis-server"], "args": ["--port", "7000"]}, ["redis-server", "--port", "7000"]),
])
def test_command_and_args_replace_entrypoint_and_cmd_as_kubernetes_documents(container: dict,
                                                                             expected: list[str]) -> None:
    config = {"Entrypoint": ["docker-entrypoint.sh"], "Cmd": ["redis-server"]}
    assert kubelet.command_line(container, config) == expected


def test_container_env_overrides_the_image_s() -> None:
    env = kubelet.environment({"env": [{"name": "LANG", "value": "C"}]}, {"Env": ["PATH=/bin", "LANG=en_US"]}, "h")
    assert env == ["PATH=/bin", "LANG=C", "HOSTNAME=h"]


@pytest.mark.parametrize(("context", "expected"), [
    ({}, list(oci.DEFAULT_CAPS)),
    ({"capabilities": {"drop": ["ALL"]}}, []),
    ({"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}, ["CAP_NET_BIND_SERVICE"]),
    ({"capabilities": {"drop": ["NET_RAW", "CHOWN"]}},
     [c for c in oci.DEFAULT_CAPS if c not in ("CAP_NET_RAW", "CAP_CHOWN")]),
    ({"capabilities": {"add": ["SYS_PTRACE"], "drop": ["ALL"]}}, ["CAP_SYS_PTRACE"]),
])
def test_capabilities_are_the_default_set_minus_drops_plus_adds(context: dict, expected: list[str]) -> None:
    assert oci.capabilities(context) == expected


@pytest.fixture()
def rootfs(tmp_path: Path) -> Path:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0::/root:/bin/sh\nmemcache:x:11211:11211::/:/bin/false\n"
                                             "redis:x:999:999::/data:/bin/false\n")
    (tmp_path / "etc" / "group").write_text("root:x:0:\nmemcache:x:11211:\nredis:x:999:\ncache:x:500:memcache,redis\n")
    return tmp_path


def test_a_named_image_user_is_looked_up_in_the_image_s_passwd_and_groups(rootfs: Path) -> None:
    pod, container = _pod()
    user = oci.process_user(pod, container, {"User": "memcache"}, rootfs)
    assert user == {"uid": 11211, "gid": 11211, "additionalGids": [500, 11211]}


def test_run_as_user_takes_its_primary_group_from_passwd_or_0_and_fs_group_is_added(rootfs: Path) -> None:
    pod, container = _pod({"runAsUser": 999, "fsGroup": 2000, "supplementalGroups": [3000]})
    assert oci.process_user(pod, container, {"User": "memcache"}, rootfs) == {
        "uid": 999, "gid": 999, "additionalGids": [500, 999, 2000, 3000]}
    pod, container = _pod({"runAsUser": 10001, "runAsGroup": 10001})
    assert oci.process_user(pod, container, {}, rootfs) == {"uid": 10001, "gid": 10001, "additionalGids": [10001]}
    pod, container = _pod({"runAsUser": 10001})
    assert oci.process_user(pod, container, {}, rootfs)["gid"] == 0


def test_the_spec_carries_read_only_root_no_new_privileges_and_the_seccomp_filter(rootfs: Path) -> None:
    pod, container = _pod({"seccompProfile": {"type": "RuntimeDefault"}}, securityContext={
        "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        resources={"limits": {"memory": "512Mi", "cpu": "500m"}})
    spec = oci.spec(pod, container, {"Cmd": ["sh"]}, rootfs, [], "/run/netns/x", "h")
    assert spec["root"]["readonly"] is True
    assert spec["process"]["noNewPrivileges"] is True
    assert spec["process"]["capabilities"]["effective"] == []
    assert "mount" in spec["linux"]["seccomp"]["syscalls"][0]["names"]
    assert spec["linux"]["resources"] == {"memory": {"limit": 512 * 2**20}, "cpu": {"quota": 50000, "period": 100000}}
    assert {"type": "network", "path": "/run/netns/x"} in spec["linux"]["namespaces"]
    unconfined = oci.spec(*_pod(), {"Cmd": ["sh"]}, rootfs, [], "/run/netns/x", "h")
    assert "seccomp" not in unconfined["linux"] and unconfined["root"]["readonly"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another group needs root")
def test_an_empty_dir_is_world_writable_and_with_fs_group_group_owned_and_set_gid(tmp_path: Path) -> None:
    plain = volumes.empty_dir(tmp_path, "plain", None)
    grouped = volumes.empty_dir(tmp_path, "grouped", 2000)
    assert stat.S_IMODE(plain.stat().st_mode) == 0o777
    assert stat.S_IMODE(grouped.stat().st_mode) == 0o2777 and grouped.stat().st_gid == 2000


@pytest.mark.skipif(os.geteuid() != 0, reason="keeping another owner needs root")
def test_an_image_volume_is_a_copy_owned_as_in_the_image_unless_the_pod_mounts_the_path(tmp_path: Path) -> None:
    image = tmp_path / "rootfs"
    (image / "data").mkdir(parents=True)
    (image / "data" / "seed").write_text("from the image")
    os.chown(image / "data", 999, 999)
    os.chmod(image / "data", 0o750)
    pod, container = _pod()
    mounts = volumes.mounts(pod, container, {"Volumes": {"/data": {}}}, image, tmp_path / "pod", tmp_path / "c")
    copy = Path(mounts[0]["source"])
    assert mounts[0]["destination"] == "/data" and "rw" in mounts[0]["options"]
    assert (copy / "seed").read_text() == "from the image"
    assert (copy.stat().st_uid, stat.S_IMODE(copy.stat().st_mode)) == (999, 0o750)
    pod = {"volumes": [{"name": "d", "emptyDir": {}}]}
    container = {"name": "app", "volumeMounts": [{"name": "d", "mountPath": "/data/"}]}
    mounts = volumes.mounts(pod, container, {"Volumes": {"/data": {}}}, image, tmp_path / "pod", tmp_path / "c2")
    assert [m["destination"] for m in mounts] == ["/data/"]
    assert not (Path(mounts[0]["source"]) / "seed").exists()


def test_only_the_kubelet_s_safe_sysctls_are_admitted() -> None:
    kubelet.verify_sysctls({"net.ipv4.ip_unprivileged_port_start": "0"})
    with pytest.raises(kubelet.Refused, match="forbidden sysctl: net.core.somaxconn"):
        kubelet.verify_sysctls({"net.core.somaxconn": "1024", "net.ipv4.tcp_syncookies": "1"})


def test_docs_runtime_md_holds_the_generated_table_for_every_scenario_and_variant() -> None:
    from tests.runtime import scenarios, table

    text = table.DOC.read_text()
    assert table.BEGIN in text and table.END in text, "docs/runtime.md lost its table markers"
    body = text.split(table.BEGIN)[1].split(table.END)[0]
    header = body.strip().splitlines()[0]
    wanted = [v for v in scenarios.VARIANTS if scenarios.kharden_knows(v)]
    assert [table.HEADINGS[v] in header for v in wanted] == [True] * len(wanted), (
        "re-run `python -m tests.runtime.table` (root): a variant is missing from docs/runtime.md")
    rows = {line.split("|")[1].strip() for line in body.splitlines() if line.startswith("| ")}
    assert {s.name for s in scenarios.SCENARIOS} <= rows
