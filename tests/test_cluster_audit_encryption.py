"""Audit policies and encryption at rest: the generators and the checks on existing objects."""

from __future__ import annotations

import base64
import os
import stat

import pytest
import yaml
from click.testing import CliRunner

from kharden.checks.cluster import check_cluster
from kharden.cli import cli
from kharden.generators.auditpolicy import audit_policy
from kharden.generators.encryptionconfig import encryption_config, new_key
from kharden.read import parse_text

GOLDEN = os.path.join(os.path.dirname(__file__), "data", "cluster", "audit-policy.golden.yaml")


def rules_of(text: str):
    return [f.rule for f in check_cluster(list(parse_text(text, "t.yaml").objects()))]


# -- audit policy ------------------------------------------------------------------------------------------------
def test_generated_policy_is_golden_and_passes_its_own_checks():
    text = audit_policy()
    if os.environ.get("KHARDEN_REGOLD"):
        with open(GOLDEN, "w", encoding="utf-8") as f:
            f.write(text)
    with open(GOLDEN, encoding="utf-8") as f:
        assert text == f.read()
    assert rules_of(text) == []


def test_generated_policy_shape():
    policy = yaml.safe_load(audit_policy())
    assert policy["apiVersion"] == "audit.k8s.io/v1" and policy["omitStages"] == ["RequestReceived"]
    rules = policy["rules"]
    assert rules[-1] == {"level": "Metadata"}  # catch-all
    levels = [r["level"] for r in rules]
    secrets = next(i for i, r in enumerate(rules) if "secrets" in str(r.get("resources")))
    assert rules[secrets]["level"] == "Metadata"
    assert all(lv == "None" or lv == "Metadata" for lv in levels[:secrets])  # nothing logs bodies before it
    exec_rule = next(r for r in rules if "pods/exec" in str(r.get("resources")))
    assert exec_rule["level"] == "RequestResponse"


def test_every_generated_rule_has_a_comment_saying_why():
    lines = audit_policy().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("  - level:")]
    assert starts and all(lines[i - 1].strip().startswith("#") for i in starts)


def test_cli_prints_the_policy():
    r = CliRunner().invoke(cli, ["generate", "audit-policy"])
    assert r.exit_code == 0 and r.output == audit_policy()


POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
{rules}
"""


@pytest.mark.parametrize("rules,found", [
    ("- level: RequestResponse\n  resources: [{group: '', resources: [secrets]}]\n- level: Metadata",
     ["audit.secrets-body"]),
    ("- level: Request", ["audit.secrets-body"]),  # a catch-all at Request logs secrets' bodies
    ("- level: Metadata\n  resources: [{group: '', resources: [secrets, configmaps]}]\n"
     "- level: Request\n  resources: [{group: authentication.k8s.io}]\n- level: Metadata", ["audit.secrets-body"]),
    ("- level: Metadata\n  resources: [{group: '', resources: [secrets, configmaps]}, "
     "{group: authentication.k8s.io, resources: [tokenreviews]}]\n- level: Request", []),
    ("- level: Metadata\n  users: [alice]\n- level: Request\n  resources: [{group: '', resources: [secrets]}]\n"
     "- level: Metadata", ["audit.secrets-body"]),  # a rule for one user does not protect everyone's secrets
    ("- level: None\n  nonResourceURLs: ['/healthz*']", ["audit.no-catch-all"]),
    ("- level: Metadata\n  verbs: [get]", ["audit.no-catch-all"]),
])
def test_policy_holes(rules, found):
    got = [r for r in rules_of(POLICY.format(rules=rules)) if r != "audit.request-received"]
    assert got == found


def test_policy_without_rules_and_without_omit_stages():
    text = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n"
    assert rules_of(text) == ["audit.no-rules"]
    assert "audit.request-received" in rules_of("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n")


# -- encryption at rest ------------------------------------------------------------------------------------------
ENC = """\
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
{entries}
"""


@pytest.mark.parametrize("entries,found", [
    ("- resources: [secrets]\n  providers: [{identity: {}}, {aescbc: {keys: [{name: k, secret: c2VjcmV0}]}}]",
     ["encryption.identity-first", "encryption.key-in-manifests"]),
    ("- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: vault, endpoint: unix:///kms.sock}}]", []),
    ("- resources: [secrets]\n  providers: [{rot13: {}}, {identity: {}}]", ["encryption.unknown-provider"]),
    ("- resources: [configmaps]\n  providers: [{kms: {apiVersion: v2, name: v, endpoint: unix:///s}}]",
     ["encryption.secrets-not-covered"]),
    ("- resources: ['*.*']\n  providers: [{identity: {}}]", ["encryption.identity-first"]),
])
def test_encryption_configuration_checks(entries, found):
    assert sorted(rules_of(ENC.format(entries=entries))) == sorted(found)


def test_identity_first_carries_cis_1_2_28():
    objs = list(parse_text(ENC.format(entries="- resources: [secrets]\n  providers: [{identity: {}}]"), "e").objects())
    (f,) = check_cluster(objs)
    assert f.extra["cis"] == "1.2.28" and f.path == ("resources", 0, "providers", 0) and f.line == 5


def test_generated_config_has_a_32_byte_key_and_encrypts_first():
    key = new_key()
    assert len(base64.b64decode(key)) == 32 and new_key() != key
    for provider in ("secretbox", "aescbc"):
        cfg = yaml.safe_load(encryption_config(key, provider, ("secrets", "configmaps")))
        providers = cfg["resources"][0]["providers"]
        assert list(providers[0]) == [provider] and providers[0][provider]["keys"][0]["secret"] == key
        assert providers[-1] == {"identity": {}} and cfg["resources"][0]["resources"] == ["secrets", "configmaps"]
    text = encryption_config(key)
    assert rules_of(text) == ["encryption.key-in-manifests"]


def test_cli_writes_0600_never_prints_the_key_and_never_replaces(tmp_path):
    out = tmp_path / "enc.yaml"
    old = os.umask(0)  # even a permissive umask must not widen the mode
    try:
        r = CliRunner().invoke(cli, ["generate", "encryption-config", "-o", str(out)])
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = yaml.safe_load(out.read_text())["resources"][0]["providers"][0]["secretbox"]["keys"][0]["secret"]
    assert key not in r.output and key not in (r.stderr if r.stderr_bytes is not None else "")
    before = out.read_bytes()
    r = CliRunner().invoke(cli, ["generate", "encryption-config", "-o", str(out)])
    assert r.exit_code != 0 and out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["enc.yaml"]  # no temporary file left behind


def test_cli_refuses_to_print_a_key():
    r = CliRunner().invoke(cli, ["generate", "encryption-config"])
    assert r.exit_code != 0 and "secret" not in r.output.lower().replace("never printed", "")
