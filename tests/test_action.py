"""The GitHub Action: its run step, executed with bash as the runner would (inputs as env, GITHUB_OUTPUT files)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.integration_helpers import APP, REPO, tool

ACTION = yaml.safe_load(open(os.path.join(REPO, "action.yml")))


def _step(step_id: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("id") == step_id)


def _run(tmp_path: str, tree: dict[str, str] | None = None,
         **inputs: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str, str]:
    """Run the action's step in `tmp_path/work`, which holds APP as deploy/ and `tree` (relative path -> a
    directory to copy there, or a file's text)."""
    bash = tool("bash")
    work = os.path.join(tmp_path, "work")
    shutil.copytree(APP, os.path.join(work, "deploy"))
    for rel, what in (tree or {}).items():
        target = os.path.join(work, rel)
        if os.path.isdir(what):
            shutil.copytree(what, target)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "w") as f:
                f.write(what)
    bin_dir = os.path.join(tmp_path, "bin")
    os.makedirs(bin_dir)
    with open(os.path.join(bin_dir, "kharden"), "w") as f:  # what `pip install` puts on PATH
        f.write(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m kharden \"$@\"\n")
    os.chmod(os.path.join(bin_dir, "kharden"), 0o755)
    step = _step("run")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHARDEN")}
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values = {**defaults, **{k.replace("_", "-"): v for k, v in inputs.items()}}
    for var, expr in step["env"].items():
        env[var] = values[expr.split("inputs.")[1].rstrip("} ")]
    out, summary = os.path.join(tmp_path, "out"), os.path.join(tmp_path, "summary.md")
    env.update(PATH=bin_dir + os.pathsep + env["PATH"], GITHUB_OUTPUT=out, GITHUB_STEP_SUMMARY=summary,
               RUNNER_TEMP=str(tmp_path))
    open(out, "w").close()
    done = subprocess.run([bash, "-c", step["run"]], cwd=work, env=env, capture_output=True, text=True, timeout=120)
    outputs = dict(line.split("=", 1) for line in open(out).read().splitlines())
    summary_text = open(summary).read() if os.path.exists(summary) else ""
    return done, outputs, summary_text, work


def test_action_declares_its_inputs_and_is_composite() -> None:
    assert ACTION["runs"]["using"] == "composite"
    used = {expr.split("inputs.")[1].rstrip("} ") for expr in _step("run")["env"].values()}
    assert used <= set(ACTION["inputs"])


def test_check_writes_sarif_and_summary_and_fails_on_violations(tmp_path: str) -> None:
    done, outputs, summary, work = _run(str(tmp_path), paths="deploy")
    assert done.returncode == 1, done.stdout + done.stderr
    assert outputs["violations"] == "true" and outputs["sarif-file"] == "kharden.sarif"
    sarif = json.load(open(os.path.join(work, "kharden.sarif")))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert uris == {"deploy/cron.yaml", "deploy/workloads.yaml"}
    assert summary.startswith("## kharden check")


def test_fix_changes_files_reports_and_respects_fail_on_violations(tmp_path: str) -> None:
    done, outputs, summary, work = _run(str(tmp_path), paths="deploy", command="fix", fail_on_violations="false")
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs["changed"] == "true" and outputs["violations"] == "true"
    assert "runAsNonRoot: true" in open(os.path.join(work, "deploy", "workloads.yaml")).read()
    assert "### Still needs a human" in summary
    strict, outputs, _, _ = _run(str(tmp_path / "again"), paths="deploy", command="fix")
    assert strict.returncode == 1 and "violations remain" in strict.stdout


def test_bad_input_is_an_error_not_a_violation(tmp_path: str) -> None:
    done, outputs, _, _ = _run(str(tmp_path), paths="deploy", command="fix", profile="no-such-profile")
    assert done.returncode == 2 and "kharden failed" in done.stdout


def test_example_workflows_use_the_action_as_declared() -> None:
    import re

    examples = os.path.join(REPO, "docs", "examples")
    for name in sorted(os.listdir(examples)):
        text = open(os.path.join(examples, name)).read()
        workflow = yaml.safe_load(text)
        steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
        ours = [s for s in steps if "kharden@" in s.get("uses", "")]
        assert ours and all(set(s.get("with", {})) <= set(ACTION["inputs"]) for s in ours), name
        assert set(re.findall(r"steps\.kharden\.outputs\.([\w-]+)", text)) <= set(ACTION["outputs"]), name


def test_args_examples_are_options_of_their_command() -> None:
    """action.yml and docs/ci.md cited `args: --generate` for `command: check`, which has no such option (exit 2).
    Each example, per command, must be an option that command accepts."""
    import re

    from click.testing import CliRunner

    from kharden.cli import cli

    action = yaml.safe_load(open(os.path.join(REPO, "action.yml")))["inputs"]["args"]["description"]
    docs = next(ln for ln in open(os.path.join(REPO, "docs", "ci.md")) if ln.startswith("| `args`"))
    for text in (action, docs):
        for command in ("check", "fix"):
            part = re.search(rf"{command}: e\.g\. `?(--[a-z-]+)", text)
            assert part, (command, text)
            usage = CliRunner().invoke(cli, [command, "--help"]).output
            assert part.group(1) in usage, (command, part.group(1))


def test_action_on_a_real_repository_as_it_is(tmp_path: str) -> None:
    """Issue 21: the Action failed (exit 2) on any repository with a CI workflow or a values.yaml. Both commands over
    a corpus project with those beside it: violations reported, files fixed, never an input error."""
    from tests.conftest import CORPUS

    project = os.path.join(str(CORPUS), "apps", "kubernetes-examples")
    if not os.path.isdir(project):
        pytest.skip(f"third-party corpus not found at {CORPUS}")
    tree = {"repo": project, "repo/.github/workflows/ci.yaml": "name: ci\non: [push]\njobs: {}\n",
            "repo/values.yaml": "replicaCount: 1\n"}
    for command in ("check", "fix"):
        run_dir = os.path.join(str(tmp_path), command)
        os.makedirs(run_dir)
        done, outputs, summary, work = _run(run_dir, tree, command=command, paths="repo")
        said = done.stdout + done.stderr
        assert "failed (exit" not in said and "kharden: error" not in said, said
        assert outputs["violations"] == "true" and summary, said
    assert outputs["changed"] == "true"
