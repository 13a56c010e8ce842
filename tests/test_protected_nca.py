"""Protected namespaces, checked by an independent analyzer (nca): one ConfigMap in kube-system must not cut the
cluster's DNS off (issue 20: a default-deny there left no connectivity to CoreDNS from any namespace)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kharden.read.source import parse_text
from kharden.run import fix_sources

pytest.importorskip("nca")

from tests.test_netpol_nca import APPS, BOUTIQUE, app_view, nca_map  # noqa: E402 (after the skip)

KUBE_SYSTEM_CONFIGMAP = ("---\napiVersion: v1\nkind: ConfigMap\n"
                         "metadata: {name: cfg, namespace: kube-system}\ndata: {a: b}\n")


def dns_clients(tmp_path: Path, profile: str) -> set[str]:
    text = BOUTIQUE.read_text(encoding="utf-8") + KUBE_SYSTEM_CONFIGMAP
    outcome = fix_sources([parse_text(text, str(BOUTIQUE))], profile)
    policies = [g for g in outcome.result.generated if g["kind"] == "NetworkPolicy"]
    return {s for s, d, c in app_view(nca_map(tmp_path, policies)) if d == "dns" and "53" in c}


def test_a_configmap_in_kube_system_leaves_dns_reachable(tmp_path: Path) -> None:
    assert dns_clients(tmp_path, "restricted") == APPS


def test_without_protection_the_default_deny_cuts_dns(tmp_path: Path) -> None:
    """The check can fail: with no protected namespace, kube-system gets a default-deny and DNS is gone."""
    profile = tmp_path / "open.yaml"
    profile.write_text("extends: restricted\nprotectedNamespaces: []\n")
    assert dns_clients(tmp_path, str(profile)) == set()
