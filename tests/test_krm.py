"""KRM function: `kharden krm` as a ResourceList filter, and under the real `kpt fn eval` / `kpt fn render`."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from typing import Any

import yaml

from kharden.integrations import krm
from tests.integration_helpers import APP, REPO, fixed_objects, kharden, objects, tool

FILES = ("cron.yaml", "workloads.yaml")


def _resource_list(function_config: dict[str, Any] | None = None) -> dict[str, Any]:
    items = []
    for name in FILES:
        for index, doc in enumerate(yaml.safe_load_all(open(os.path.join(APP, name)))):
            doc["metadata"].setdefault("annotations", {}).update({
                "internal.config.kubernetes.io/path": f"app/{name}", "internal.config.kubernetes.io/index": str(index),
                "config.kubernetes.io/path": f"app/{name}", "config.kubernetes.io/index": str(index),
                "config.kubernetes.io/local-config": "false"})
            items.append(doc)
    rl: dict[str, Any] = {"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": items}
    if function_config is not None:
        rl["functionConfig"] = function_config
    return rl


def _strip(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Without the kpt/kustomize bookkeeping annotations (what kpt removes when it writes files)."""
    out = copy.deepcopy(items)
    for o in out:
        annotations = o["metadata"].get("annotations", {})
        for k in [k for k in annotations if k.startswith(("config.kubernetes.io/", "internal.config.kubernetes.io/"))]:
            del annotations[k]
        if not annotations:
            o["metadata"].pop("annotations", None)
    return out


def test_items_are_hardened_like_fix_and_annotations_pass_through() -> None:
    rl = _resource_list()
    done = kharden("krm", stdin=yaml.safe_dump(rl))
    assert done.returncode == 0, done.stderr
    out = yaml.safe_load(done.stdout)
    assert out["kind"] == "ResourceList"
    for before, after in zip(rl["items"], out["items"]):
        assert after["metadata"]["annotations"] == before["metadata"]["annotations"]
    assert objects(yaml.safe_dump_all(_strip(out["items"]))) == fixed_objects(*(os.path.join(APP, f) for f in FILES))


def test_results_cover_every_change_and_every_unfixed_violation() -> None:
    out, failed = krm.process(yaml.safe_dump(_resource_list()))
    results = yaml.safe_load(out)["results"]
    from kharden import run

    outcome = run.fix([os.path.join(APP, f) for f in FILES], "restricted")
    fixed = [r for r in results if r["tags"]["status"] == "fixed"]
    unfixed = [r for r in results if r["tags"]["status"] == "unfixed"]
    assert len(fixed) == len(outcome.result.changes) > 0
    assert len(unfixed) == len([f for f in outcome.result.findings if f.status == "unfixed"]) > 0
    privileged = next(r for r in unfixed if r["tags"]["rule"] == "pss.privileged")
    assert privileged["severity"] == "warning" and not failed
    assert privileged["resourceRef"] == {"apiVersion": "batch/v1", "kind": "CronJob", "name": "report",
                                         "namespace": "shop"}
    assert privileged["file"] == {"path": "app/cron.yaml", "index": 0}
    assert privileged["field"]["path"].endswith("containers[0].securityContext.privileged")


def test_enforce_makes_unfixed_violations_errors_and_exits_1() -> None:
    config = {"apiVersion": "kharden.dev/v1", "kind": "Hardening", "spec": {"enforce": True}}
    done = kharden("krm", stdin=yaml.safe_dump(_resource_list(config)))
    assert done.returncode == 1
    severities = {r["severity"] for r in yaml.safe_load(done.stdout)["results"]}
    assert "error" in severities


def test_bad_function_config_is_an_error_result() -> None:
    config = {"apiVersion": "kharden.dev/v1", "kind": "Hardening", "spec": {"profile": "no-such-profile"}}
    out, failed = krm.process(yaml.safe_dump(_resource_list(config)))
    assert failed and "no-such-profile" in yaml.safe_load(out)["results"][0]["message"]


def test_not_a_resource_list_exits_2_without_stdout() -> None:
    done = kharden("krm", stdin="apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    assert done.returncode == 2 and done.stdout == "" and "ResourceList" in done.stderr


def _package(tmp_path: str) -> tuple[str, str]:
    pkg = os.path.join(tmp_path, "pkg")
    os.makedirs(pkg)
    for name in FILES:
        shutil.copy(os.path.join(APP, name), pkg)
    wrapper = os.path.join(tmp_path, "kharden-krm")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m kharden krm\n")
    os.chmod(wrapper, 0o755)
    return pkg, wrapper


def _package_objects(pkg: str) -> list[dict[str, Any]]:
    names = [*FILES, krm.GENERATED_FILE] if os.path.exists(os.path.join(pkg, krm.GENERATED_FILE)) else FILES
    return objects("---\n".join(open(os.path.join(pkg, f)).read() for f in names))


def test_kpt_fn_eval_exec(tmp_path: str) -> None:
    kpt = tool("kpt")
    pkg, wrapper = _package(str(tmp_path))
    results = os.path.join(str(tmp_path), "results")
    done = subprocess.run([kpt, "fn", "eval", "--exec", wrapper, "--results-dir", results, pkg],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _package_objects(pkg) == fixed_objects(*(os.path.join(APP, f) for f in FILES))
    assert "# A small app" in open(os.path.join(pkg, "workloads.yaml")).read()  # kpt keeps comments
    reported = yaml.safe_load(open(os.path.join(results, "results.yaml")))
    items = [r for i in reported["items"] for r in i.get("results", [])]
    assert any(r.get("file", {}).get("path") == "cron.yaml" and r["tags"]["status"] == "unfixed" for r in items)


def test_kpt_fn_eval_enforce_fails_and_writes_nothing(tmp_path: str) -> None:
    kpt = tool("kpt")
    pkg, wrapper = _package(str(tmp_path))
    before = _package_objects(pkg)
    done = subprocess.run([kpt, "fn", "eval", "--exec", wrapper, pkg, "--", "enforce=true"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert _package_objects(pkg) == before


def test_kpt_fn_render_pipeline(tmp_path: str) -> None:
    kpt = tool("kpt")
    pkg, wrapper = _package(str(tmp_path))
    kptfile = {"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "pkg"},
               "pipeline": {"mutators": [{"exec": wrapper, "configMap": {"profile": "restricted"}}]}}
    with open(os.path.join(pkg, "Kptfile"), "w") as f:
        yaml.safe_dump(kptfile, f)
    done = subprocess.run([kpt, "fn", "render", "--allow-exec", pkg], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _package_objects(pkg) == fixed_objects(*(os.path.join(APP, f) for f in FILES))


def test_generated_items_get_a_file_beside_the_input(tmp_path: str) -> None:
    kpt = tool("kpt")
    pkg, wrapper = _package(str(tmp_path))
    done = subprocess.run([kpt, "fn", "eval", "--exec", wrapper, pkg, "--", "generate=true"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    generated = os.path.join(pkg, krm.GENERATED_FILE)
    assert os.path.isfile(generated)
    got = objects(open(generated).read() + "---\n" + "---\n".join(open(os.path.join(pkg, f)).read() for f in FILES))
    assert got == fixed_objects(*(os.path.join(APP, f) for f in FILES), generate=True)


def test_timestamps_come_back_in_rfc3339() -> None:
    rl = _resource_list()
    rl["items"][0]["metadata"]["creationTimestamp"] = "TIMESTAMP"
    text = yaml.safe_dump(rl).replace("TIMESTAMP", "2018-10-27T06:36:27Z")  # unquoted, as kpt sends it
    out, _ = krm.process(text)
    assert "creationTimestamp: 2018-10-27T06:36:27Z\n" in out


def test_local_config_and_kpt_items_are_left_alone() -> None:
    rl = _resource_list()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "scratch", "namespace": "elsewhere",
           "annotations": {"config.kubernetes.io/local-config": "true"}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    kptfile = {"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "metadata": {"name": "pkg"}}
    rl["items"] += [copy.deepcopy(pod), copy.deepcopy(kptfile)]
    out, _ = krm.process(yaml.safe_dump(rl))
    result = yaml.safe_load(out)
    assert pod in result["items"] and kptfile in result["items"]
    assert not any(r.get("resourceRef", {}).get("name") in ("scratch", "pkg") for r in result["results"])
    assert "elsewhere" not in yaml.safe_dump([i for i in result["items"] if i not in rl["items"]])
