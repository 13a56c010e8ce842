"""The networkPolicies generator's profile options (`generators.networkPolicies`), read by its parts.

They live here rather than in kharden/generators/networkpolicies.py because the parts (policies, routes) read
them and that module imports the parts.
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.options import ProfileOptions, dict_field, spelled


@dataclass(frozen=True)
class Options(ProfileOptions):
    dns_namespace: str = "kube-system"
    dns_pod_labels: dict[str, str] = dict_field({"k8s-app": "kube-dns"})
    dns_port: int = 53
    node_local_dns: str | None = spelled("nodeLocalDNS", "")  # e.g. "169.254.20.10"; "" = no NodeLocal DNSCache
    ingress_controller_namespace: str | None = "ingress-nginx"
    ingress_controller_pod_labels: dict[str, str] | None = dict_field({
        "app.kubernetes.io/name": "ingress-nginx",
        "app.kubernetes.io/component": "controller",
    })
    gateway_namespace: str | None = ""  # with gatewayPodLabels {}: each parent Gateway's pods (gateway-name label)
    gateway_pod_labels: dict[str, str] | None = dict_field({})
    api_server_cidr: str | None = spelled("apiServerCIDR", "")  # e.g. "10.0.0.1/32" (comma-separated); "" = unknown
    api_server_ports: tuple[int, ...] | None = (443, 6443)  # for the egress of workloads that keep a token
    cluster_domain: str = "cluster.local"
