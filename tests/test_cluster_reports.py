"""The cluster layer in `kharden check` reports: golden text, JSON and SARIF (rule ids, CIS items, CVEs)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from kharden.cli import cli

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "data" / "cluster" / "check-golden"
INPUTS = ["tests/data/cluster/mixed.yaml", "tests/data/cluster/kubeadm/insecure"]


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("json", "json"), ("sarif", "sarif")])
def test_check_report_golden(fmt, ext, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(cli, ["check", "--pss", "restricted", "--rbac", "--format", fmt, *INPUTS])
    assert r.exit_code == 1
    out = r.stdout
    if fmt == "sarif":  # the version and the absolute root differ between machines
        doc = json.loads(out)
        doc["runs"][0]["tool"]["driver"]["version"] = doc["runs"][0]["tool"]["driver"]["semanticVersion"] = "X"
        doc["runs"][0]["originalUriBaseIds"] = {}
        out = json.dumps(doc, indent=2) + "\n"
    path = GOLDEN / f"check.{ext}"
    if os.environ.get("KHARDEN_REGOLD"):
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(out, encoding="utf-8")
    assert out == path.read_text(encoding="utf-8")


def test_cluster_rules_in_sarif_have_help_and_properties(monkeypatch):
    monkeypatch.chdir(ROOT)
    doc = json.loads(CliRunner().invoke(cli, ["check", "--pss", "restricted", "--rbac", "--format", "sarif", *INPUTS]).stdout)
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    for rid in ("cis.1.2.15", "ingress.nginx-snippet", "gateway.http-only", "audit.secrets-body",
                "encryption.identity-first"):
        assert rid in rules and "docs/cluster.md" in rules[rid]["help"]["text"]
    snippet = next(r for r in run["results"] if r["ruleId"] == "ingress.nginx-snippet")
    assert snippet["properties"]["cve"] == "CVE-2021-25742"
    assert snippet["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
    enc = next(r for r in run["results"] if r["ruleId"] == "encryption.identity-first")
    assert enc["properties"]["cis"] == "1.2.28"
