"""Unit tests for the networkPolicies generator's parts: tokens, host look-up, selectors, names, options."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kharden.generators import networkpolicies
from kharden.generators.netpol.inventory import build, selector_matches
from kharden.generators.netpol.policies import Names, dns1123
from kharden.generators.netpol.references import HostIndex, tokens
from kharden.options import as_profile
from kharden.profile import options
from kharden.read.source import parse_text

SERVER = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      automountServiceAccountToken: false
      containers: [{name: api, image: x, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8080}]
"""


def client(env_value: str, kind: str = "Deployment") -> str:
    return f"""
---
apiVersion: apps/v1
kind: {kind}
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      automountServiceAccountToken: false
      containers:
      - name: web
        image: x
        env: [{{name: SOME_SETTING, value: {env_value!r}}}]
"""


def netpol_options(**opts: Any) -> networkpolicies.Options:
    """The generator's options with these profile keys set, validated as a profile's are."""
    return options(networkpolicies.Options(), opts, "generators.networkPolicies")


def generate(text: str, **opts: Any) -> tuple[list[dict[str, Any]], list[str]]:
    out = networkpolicies.generate(list(parse_text(text, "in.yaml").objects()), netpol_options(**opts), lambda o: None)
    return out.objects, [f.rule for f in out.findings]


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("api:80", [("api", 80, None, True)]),
        ("http://api.shop.svc.cluster.local:80/x", [("api.shop.svc.cluster.local", 80, "http", False)]),
        ("redis://user:pw@cache:6379/0", [("cache", 6379, "redis", False)]),
        ("jdbc:postgresql://db.data:5432/app", [("jdbc", None, None, False), ("db.data", 5432, "postgresql", False)]),
        ("a:1,b.ns:2", [("a", 1, None, False), ("b.ns", 2, None, False)]),
        ("busybox:1.36.1", [("busybox", None, None, False)]),  # an image tag is not a port
        ("/etc/api/config", []),  # path segments are not hosts
        ("docker.io/library/redis:7", [("docker.io", None, None, False)]),
        ("$(API_HOST):80 ${X}", []),
        ("Frontend is up", [("is", None, None, False), ("up", None, None, False)]),
        ("host:99999", []),  # not a port number, so not an address
        ("10.0.0.1:443 1.2.3", []),  # numbers, versions and IP addresses are no Service names
    ],
)
def test_tokens(text: str, expected: list[tuple[str, int | None, str | None, bool]]) -> None:
    assert [(t.host, t.port, t.scheme, t.whole) for t in tokens(text)] == expected


@pytest.mark.parametrize(
    "value",
    ["api:80", "api", "api.shop", "api.shop.svc", "api.shop.svc.cluster.local:80", "http://api/", "grpc://api.shop:80"],
)
def test_every_reference_form_makes_the_edge(value: str) -> None:
    objects, _ = generate(SERVER + client(value))
    web = next(o for o in objects if o["metadata"]["name"] == "web-egress")
    assert web["spec"]["egress"] == [
        {"to": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"protocol": "TCP", "port": 8080}]}
    ]
    assert "api-ingress" in names(objects)


@pytest.mark.parametrize(
    "value",
    ["the api is down", "/var/lib/api", "registry.example.com/team/api:1.2", "api.example.com:80", "apiserver:80",
     "api-gateway", "x-api:80"],
)
def test_words_paths_images_and_other_hosts_make_no_edge(value: str) -> None:
    objects, _ = generate(SERVER + client(value))
    assert "web-egress" not in names(objects) and "api-ingress" not in names(objects)


def test_unresolved_warnings_only_for_service_like_hosts() -> None:
    _, rules = generate(SERVER + client("missing:8080"))
    assert rules == ["netpol.unresolved-host"]
    for quiet in ("https://example.com:443/x", "localhost:8080", "10.0.0.1:80", "Hello world", "redis:7.2"):
        assert generate(SERVER + client(quiet))[1] == [], quiet


def test_host_index_is_namespace_relative() -> None:
    inv = build(parse_text(SERVER, "in.yaml").objects())
    index = HostIndex(inv, "cluster.local")
    assert index.resolve("api", "shop") is not None
    assert index.resolve("api", "other") is None  # a short name means the client's own namespace
    assert index.resolve("api.shop", "other") is not None
    assert index.resolve("api.shop.svc.cluster.local", None) is not None
    assert index.resolve("api.shop.svc.corp.internal", "shop") is None


def test_selector_semantics() -> None:
    labels = {"app": "api", "tier": "backend"}
    assert selector_matches({}, labels)
    assert selector_matches({"matchLabels": {"app": "api"}}, labels)
    assert not selector_matches({"matchLabels": {"app": "web"}}, labels)
    assert selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend"]}]},
                                labels)
    assert selector_matches({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, labels)


def test_names_are_dns_labels_and_never_clash() -> None:
    assert dns1123("My_App.v2--ingress") == "my-app-v2--ingress"
    long = dns1123("x" * 80 + "-ingress")
    assert len(long) == 63
    taken = Names({"ns": {"web-egress"}})
    assert taken.claim("ns", "web-egress") == "web-egress-kharden"
    assert taken.claim("ns", "web-egress") == "web-egress-kharden-2"
    assert taken.claim("other", "web-egress") == "web-egress"
    assert len(taken.claim("ns", "y" * 70)) <= 63


def test_selects_by_workload_selector_not_template_labels() -> None:
    text = SERVER.replace("labels: {app: api}", "labels: {app: api, version: v7, pod-template-hash: abc}")
    objects, _ = generate(text + client("api:80"))
    ingress = next(o for o in objects if o["metadata"]["name"] == "api-ingress")
    assert ingress["spec"]["podSelector"] == {"matchLabels": {"app": "api"}}


def test_deterministic_and_self_contained() -> None:
    text = SERVER + client("api:80")
    first, _ = generate(text)
    assert first == generate(text)[0]
    dumped = yaml.safe_dump_all(first)
    assert "&id" not in dumped  # no shared mappings, so no YAML aliases
    for obj in first:
        assert obj["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kharden"}
        assert obj["metadata"]["annotations"]["kharden.dev/why"]


def test_custom_pod_templates_from_the_profile() -> None:
    rollout = client("api:80", kind="Rollout").replace("apps/v1", "argoproj.io/v1alpha1")
    objects, _ = generate(SERVER + rollout)
    assert "web-egress" not in names(objects)  # an unknown kind runs no pods kharden knows of
    out = networkpolicies.generate(list(parse_text(SERVER + rollout, "in.yaml").objects()), netpol_options(), lambda o: None,
                                   pod_templates={("argoproj.io", "Rollout"): ("spec", "template")}, audit_log=None)
    assert "web-egress" in names(out.objects)


def test_defaults_have_the_types_profiles_check() -> None:
    d = as_profile(networkpolicies.Options())
    assert networkpolicies.ID == "networkPolicies"
    assert isinstance(d["dnsPort"], int) and isinstance(d["dnsPodLabels"], dict)
    assert d["apiServerCIDR"] == "" and d["nodeLocalDNS"] == "" and d["clusterDomain"] == "cluster.local"


def test_input_objects_are_not_edited() -> None:
    source = parse_text(SERVER + client("api:80"), "in.yaml")
    objects = list(source.objects())
    before = [yaml.safe_dump(o.data) for o in objects]
    networkpolicies.generate(objects, netpol_options(), lambda o: pytest.fail("no edits expected"))
    assert [yaml.safe_dump(o.data) for o in objects] == before


def test_connects_to_annotation_declares_compiled_in_addresses() -> None:
    text = SERVER + client("nothing").replace(
        "    metadata: {labels: {app: web}}", "    metadata:\n      labels: {app: web}\n"
        "      annotations: {kharden.dev/connects-to: 'api.shop:80, missing:9'}")
    objects, rules = generate(text)
    web = next(o for o in objects if o["metadata"]["name"] == "web-egress")
    assert web["spec"]["egress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert "annotation kharden.dev/connects-to names api.shop:80 (in.yaml)" in web["metadata"]["annotations"][
        "kharden.dev/why"]
    assert rules == ["netpol.unresolved-host"]


def test_routes_without_controller_labels_allow_nothing() -> None:
    ingress = """
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: api, namespace: shop}
spec:
  defaultBackend: {service: {name: api, port: {number: 80}}}
"""
    objects, rules = generate(SERVER + ingress, ingressControllerPodLabels={})
    assert "api-ingress" not in names(objects)
    assert rules == ["netpol.ingress-controller"]
    objects, rules = generate(SERVER + ingress)
    peer = next(o for o in objects if o["metadata"]["name"] == "api-ingress")["spec"]["ingress"][0]["from"][0]
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "controller"
    assert rules == []


def test_service_accounts_generated_earlier_decide_the_token() -> None:
    text = SERVER.replace("      automountServiceAccountToken: false\n", "      serviceAccountName: api\n")
    objects = list(parse_text(text, "in.yaml").objects())
    keeps = networkpolicies.generate(objects, netpol_options(apiServerCIDR="10.0.0.1/32"), lambda o: None)
    assert "api-egress" in names(keeps.objects)
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "api", "namespace": "shop"},
          "automountServiceAccountToken": False}
    off = networkpolicies.generate(objects, netpol_options(apiServerCIDR="10.0.0.1/32"), lambda o: None, generated=[sa])
    assert "api-egress" not in names(off.objects)


def test_gateway_routes_default_to_the_parent_gateways_pods() -> None:
    route = """
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: api, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: gw}, {name: internal}]
  rules: [{backendRefs: [{name: api, port: 80}]}]
"""
    objects, rules = generate(SERVER + route)
    ingress = next(o for o in objects if o["metadata"]["name"] == "api-ingress")["spec"]["ingress"]
    label = "gateway.networking.k8s.io/gateway-name"
    assert ingress == [{
        "from": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gw"}},
             "podSelector": {"matchLabels": {label: "public"}}},
            {"podSelector": {"matchLabels": {label: "internal"}}},
        ],
        "ports": [{"protocol": "TCP", "port": 8080}],
    }]
    assert rules == []
