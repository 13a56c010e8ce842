"""Golden cases for the networkPolicies generator, one folder each under tests/golden_netpol/.

    in.yaml        the input manifests
    opts.yaml      optional generator options (over the defaults)
    out.yaml       the generated policies, compared byte for byte
    findings.txt   the findings, one a line: rule, severity, object, line, path: message

A second run on the input plus the generated policies must generate nothing: the output respects itself.
Set KHARDEN_UPDATE_GOLDEN=1 to rewrite out.yaml and findings.txt (then read them line by line).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from kharden.generators import networkpolicies
from kharden.model import Finding, dotted
from kharden.profile import options
from kharden.read.source import parse_text

CASES = Path(__file__).parent / "golden_netpol"
UPDATE = os.environ.get("KHARDEN_UPDATE_GOLDEN") == "1"


def run(text: str, opts: dict[str, Any]) -> tuple[list[dict[str, Any]], list[Finding]]:
    source = parse_text(text, "in.yaml")
    out = networkpolicies.generate(list(source.objects()), options(networkpolicies.Options(), opts, "generators.networkPolicies"), lambda o: None)
    return out.objects, out.findings


def render(objects: list[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(objects, sort_keys=False, width=1000) if objects else ""


def finding_line(f: Finding) -> str:
    where = f.obj.label() if f.obj else "-"
    return f"{f.rule} {f.severity} {where} line {f.line} {dotted(f.path) or '.'}: {f.message}\n"


def check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_golden(case: str) -> None:
    folder = CASES / case
    text = (folder / "in.yaml").read_text(encoding="utf-8")
    opts_file = folder / "opts.yaml"
    opts = yaml.safe_load(opts_file.read_text(encoding="utf-8")) if opts_file.exists() else {}
    objects, findings = run(text, opts)
    check(folder / "out.yaml", render(objects))
    check(folder / "findings.txt", "".join(finding_line(f) for f in findings))
    again, _ = run(text + "\n---\n" + render(objects), opts)
    assert again == [], "a second run over the output generated more policies"


def test_every_rule_has_a_case() -> None:
    """Each warning rule appears in some golden case (a meta-test, so a new rule comes with its case)."""
    seen = "".join((p / "findings.txt").read_text() for p in CASES.iterdir() if (p / "findings.txt").exists())
    rules = ["externalname", "no-selector", "host-network", "named-port", "unresolved-host", "unknown-port",
             "exposed", "apiserver-cidr", "unknown-namespace", "existing-policy", "unselectable"]
    assert [r for r in rules if f"netpol.{r} " not in seen] == []
