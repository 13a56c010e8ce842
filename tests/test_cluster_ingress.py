"""Ingress and Gateway TLS, and ingress-nginx annotations with known abuse (kharden/checks/cluster/ingress.py)."""

from __future__ import annotations

import os

import pytest

from kharden.checks.cluster import check_cluster
from kharden.cluster.tls import covered
from kharden.read import parse_text

CORPUS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpus")


def findings(text: str, opts=None):
    return check_cluster(list(parse_text(text, "t.yaml").objects()), opts)


INGRESS = """\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
{annotations}
spec:
  rules:
  - host: web.example.com
    http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]}}
"""


@pytest.mark.parametrize("annotation,rule,cve", [
    ('nginx.ingress.kubernetes.io/configuration-snippet: "more_set_headers X: 1;"', "ingress.nginx-snippet",
     "CVE-2021-25742"),
    ('nginx.ingress.kubernetes.io/server-snippet: "location /x {}"', "ingress.nginx-snippet", "CVE-2021-25742"),
    ('nginx.ingress.kubernetes.io/auth-url: "http://example.com/#;\\ninjection_point"', "ingress.nginx-injection",
     "CVE-2025-24514"),
    ('nginx.ingress.kubernetes.io/auth-tls-match-cn: "CN=x}\\nload_module"', "ingress.nginx-injection",
     "CVE-2025-1097"),
    ('nginx.ingress.kubernetes.io/mirror-target: "http://a/#;\\nx"', "ingress.nginx-injection", "CVE-2025-1098"),
    ('nginx.ingress.kubernetes.io/mirror-host: "a;b"', "ingress.nginx-injection", "CVE-2025-1098"),
])
def test_nginx_annotations_with_known_abuse(annotation, rule, cve):
    got = [f for f in findings(INGRESS.format(annotations="    " + annotation)) if f.rule == rule]
    assert len(got) == 1 and got[0].extra["cve"] == cve and got[0].line == 6


def test_plain_values_of_injectable_annotations_pass():
    text = INGRESS.format(annotations='    nginx.ingress.kubernetes.io/auth-url: "https://auth.example.com/check"')
    assert not [f for f in findings(text) if f.rule.startswith("ingress.nginx")]


@pytest.mark.parametrize("annotation", [
    'nginx.ingress.kubernetes.io/ssl-redirect: "false"', 'kubernetes.io/ingress.allow-http: "true"',
    'traefik.ingress.kubernetes.io/router.entrypoints: web'])
def test_http_allowed(annotation):
    assert [f.rule for f in findings(INGRESS.format(annotations="    " + annotation))].count("ingress.http-allowed") == 1


def test_tls_missing_names_the_host_and_line():
    got = [f for f in findings(INGRESS.format(annotations="    {}")) if f.rule == "ingress.tls-missing"]
    assert [(f.message.split()[1], f.line) for f in got] == [("web.example.com", 9)]


@pytest.mark.parametrize("host,tls,ok", [
    ("a.example.com", ["a.example.com"], True), ("a.example.com", ["*.example.com"], True),
    ("a.b.example.com", ["*.example.com"], False), ("example.com", ["*.example.com"], False),
    ("a.example.com", ["b.example.com"], False)])
def test_wildcard_coverage(host, tls, ok):
    assert covered(host, tls) is ok


GATEWAY = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: x
  listeners:
  - {name: http, protocol: HTTP, port: 80, hostname: a.example.com}
  - {name: https, protocol: HTTPS, port: 443, hostname: a.example.com}
  - {name: plain, protocol: HTTP, port: 80, hostname: b.example.com}
"""


def test_gateway_http_without_https_counterpart():
    got = [f for f in findings(GATEWAY) if f.rule == "gateway.http-only"]
    assert [f.path for f in got] == [("spec", "listeners", 2)]


def test_vulnerable_ingress_nginx_controller_image():
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: c}\nspec:\n  containers:\n"
           "  - {name: c, image: 'registry.k8s.io/ingress-nginx/controller:v%s@sha256:ab'}\n")
    assert [f.rule for f in findings(pod % "1.12.0")] == ["ingress.nginx-vulnerable-controller"]
    assert [f.rule for f in findings(pod % "1.11.4")] == ["ingress.nginx-vulnerable-controller"]
    assert findings(pod % "1.11.5") == [] and findings(pod % "1.12.1") == []


def _corpus(rel):
    path = os.path.join(CORPUS, rel)
    if not os.path.exists(path):
        pytest.skip(f"corpus file missing: {path}")
    with open(path, encoding="utf-8") as f:
        return check_cluster(list(parse_text(f.read(), path).objects()))


def test_corpus_ingress_nginx_install_is_current():
    got = _corpus("apps/ingress-nginx/deploy/static/provider/cloud/deploy.yaml")
    assert not [f for f in got if f.rule.startswith("ingress.")]  # v1.15.1: past the IngressNightmare fixes


def test_corpus_argo_ingress_and_istio_gateway():
    got = _corpus("apps/argo-cd/gitops-engine/pkg/health/testdata/ingress.yaml")
    assert [(f.rule, f.line) for f in got] == [("ingress.tls-missing", 17)]
    got = _corpus("apps/microservices-demo/release/istio-manifests.yaml")
    assert [(f.rule, f.obj.name) for f in got] == [("gateway.http-only", "istio-gateway")]
