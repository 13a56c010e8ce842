"""The generated policies, checked by an independent analyzer: np-guard's network-config-analyzer (`nca`).

nca reads the Online Boutique manifests (pods) and kharden's policies, and reports the connectivity map; it must be
exactly the service graph the manifests reference, DNS and the API server, and nothing else between the app's pods.
Golden cases with an `nca.txt` are checked the same way: nca's map of their pods (plus `nca-pods.yaml`, test-only
pods such as the ingress controller) under in.yaml's and out.yaml's policies must be exactly the lines written
there by hand (connections to or from the case's own workloads; DNS is covered by the Online Boutique test).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kharden.generators import networkpolicies
from kharden.profile import options
from kharden.read.source import parse_text

pytest.importorskip("nca")

CORPUS = Path(os.environ.get("KHARDEN_CORPUS", "/work/shared/corpus"))
BOUTIQUE = CORPUS / "apps/microservices-demo/release/kubernetes-manifests.yaml"
if not BOUTIQUE.exists():
    pytest.skip(f"corpus not found at {CORPUS} (set KHARDEN_CORPUS)", allow_module_level=True)
API = "10.96.0.1/32"

# The service graph of Online Boutique as its manifests write it (env *_ADDR), with the server's target port.
GRAPH = {
    ("frontend", "productcatalogservice", 3550),
    ("frontend", "currencyservice", 7000),
    ("frontend", "cartservice", 7070),
    ("frontend", "recommendationservice", 8080),
    ("frontend", "shippingservice", 50051),
    ("frontend", "checkoutservice", 5050),
    ("frontend", "adservice", 9555),
    ("checkoutservice", "productcatalogservice", 3550),
    ("checkoutservice", "shippingservice", 50051),
    ("checkoutservice", "paymentservice", 50051),
    ("checkoutservice", "emailservice", 8080),  # Service port 5000 -> targetPort 8080
    ("checkoutservice", "currencyservice", 7000),
    ("checkoutservice", "cartservice", 7070),
    ("recommendationservice", "productcatalogservice", 3550),
    ("cartservice", "redis-cart", 6379),
    ("loadgenerator", "frontend", 8080),
}
APPS = {a for edge in GRAPH for a in edge[:2]}
_LINE = re.compile(r"^(?P<src>\S+) => (?P<dst>\S+) : (?P<conn>.*)$")


def run_nca(cwd: Path, policies: Path, pods: list[Path]) -> list[tuple[str, str, str]]:
    """nca's connectivity map: (src, dst, connection) for every allowed connection, as nca names them."""
    code = "import sys; from nca.nca_cli import nca_main; sys.exit(nca_main())"
    cmd = [sys.executable, "-c", code, "--connectivity", str(policies), "-o", "txt_no_fw_rules",
           "--output_endpoints", "deployments"]
    for p in pods:
        cmd += ["--pod_list", str(p)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=cwd)
    assert run.returncode == 0, run.stderr
    edges = [(m["src"], m["dst"], m["conn"].replace(" ", "")) for m in map(_LINE.match, run.stdout.splitlines()) if m]
    assert edges, run.stdout + run.stderr
    return edges


def nca_map(tmp_path: Path, policies: list[dict]) -> set[tuple[str, str, str]]:
    """Run nca on Online Boutique and the policies; endpoints shortened to the app's names."""
    np_file = tmp_path / "policies.yaml"
    np_file.write_text(yaml.safe_dump_all(policies, sort_keys=False))
    return {(_short(s), _short(d), c) for s, d, c in run_nca(tmp_path, np_file, [BOUTIQUE])}


def _short(endpoint: str) -> str:
    """default/frontend[Deployment] -> frontend; kube-system/kube-dns-livesim[Pod] -> dns; IP ranges as they are."""
    if endpoint.startswith("kube-system/kube-dns"):
        return "dns"
    m = re.match(r"default/([^\[]+)\[Deployment\]$", endpoint)
    return m.group(1) if m else endpoint


def generate(**opts: object) -> list[dict]:
    source = parse_text(BOUTIQUE.read_text(encoding="utf-8"), str(BOUTIQUE))
    return networkpolicies.generate(list(source.objects()), options(networkpolicies.Options(), dict(opts), "generators.networkPolicies"), lambda o: None).objects


def expected(api: bool) -> set[tuple[str, str, str]]:
    out = {(s, d, f"{{protocols:TCP,dst_ports:{p}}}") for s, d, p in GRAPH}
    out |= {(a, "dns", "{protocols:TCP,UDP,dst_ports:53}") for a in APPS}
    if api:
        out |= {(a, API.split("/")[0], "{protocols:TCP,dst_ports:443,6443}") for a in APPS}
    # frontend-external is a LoadBalancer: its target port is open to every source, which for nca is every
    # address and every pod not held back by an egress policy (its simulated kube-dns pod is the only one)
    out.add(("0.0.0.0-255.255.255.255", "frontend", "{protocols:TCP,dst_ports:8080}"))
    out.add(("dns", "frontend", "{protocols:TCP,dst_ports:8080}"))
    return out


def app_view(edges: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """Every connection to or from an app pod; nca's simulated kube-dns pod (in a namespace without policies)
    otherwise talks to and hears from everything, which is not the app's business."""
    return {e for e in edges if e[0] in APPS or e[1] in APPS}


def test_nca_sees_exactly_the_service_graph_dns_and_api(tmp_path: Path) -> None:
    assert app_view(nca_map(tmp_path, generate(apiServerCIDR=API))) == expected(api=True)


def test_nca_without_api_cidr_no_api_egress(tmp_path: Path) -> None:
    assert app_view(nca_map(tmp_path, generate())) == expected(api=False)


def test_nca_notices_a_missing_policy(tmp_path: Path) -> None:
    """The check can fail: without checkoutservice's egress policy, its six calls disappear from nca's map."""
    policies = [p for p in generate(apiServerCIDR=API) if p["metadata"]["name"] != "checkoutservice-egress"]
    got = app_view(nca_map(tmp_path, policies))
    missing = expected(api=True) - got
    assert {(s, d) for s, d, _ in missing} == {
        ("checkoutservice", d) for s, d, _ in GRAPH if s == "checkoutservice"
    } | {("checkoutservice", API.split("/")[0])}


GOLDEN = Path(__file__).parent / "golden_netpol"


@pytest.mark.parametrize("case", sorted(p.parent.name for p in GOLDEN.glob("*/nca.txt")))
def test_golden_case_connectivity_by_nca(case: str, tmp_path: Path) -> None:
    folder = GOLDEN / case
    policies = tmp_path / "policies"
    policies.mkdir()
    for name in ("in.yaml", "out.yaml"):  # the input's own policies count too
        (policies / name).write_text((folder / name).read_text(encoding="utf-8"), encoding="utf-8")
    pods = [folder / "in.yaml"] + ([folder / "nca-pods.yaml"] if (folder / "nca-pods.yaml").exists() else [])
    own = _workload_names(folder / "in.yaml")
    got = sorted(
        f"{s} => {d} : {c}" for s, d, c in run_nca(tmp_path, policies, pods)
        if (_name(s) in own or _name(d) in own) and "kube-dns" not in s + d
    )
    want = [line.replace(", ", ",") for line in (folder / "nca.txt").read_text(encoding="utf-8").splitlines() if line]
    assert got == sorted(want)


def _name(endpoint: str) -> str:
    return endpoint.split("[")[0]


def _workload_names(path: Path) -> set[str]:
    """ns/name of the workloads in a case's input, as nca names them (no namespace: default)."""
    out = set()
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if isinstance(doc, dict) and isinstance(doc.get("spec"), dict):
            meta = doc.get("metadata") or {}
            out.add(f"{meta.get('namespace') or 'default'}/{meta.get('name')}")
    return out
