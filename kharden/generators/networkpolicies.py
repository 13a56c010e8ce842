"""networkPolicies: NetworkPolicies that isolate every pod and allow exactly the traffic the manifests name.

Per namespace of the input (objects without `metadata.namespace` get policies without one, so they land together):

    default-deny   podSelector {}, policyTypes [Ingress, Egress]
    allow-dns      egress to pods k8s-app=kube-dns in namespace kube-system, UDP and TCP 53
                   (plus NodeLocal DNSCache when `nodeLocalDNS` is set)

Per workload, selected by its own selector (spec.selector.matchLabels, not volatile template labels):

    <workload>-ingress   from each client that names one of its Services; from the ingress controller / gateway
                         pods for Services an Ingress or HTTPRoute/GRPCRoute/TCPRoute routes to; from anywhere
                         for LoadBalancer / NodePort Services
    <workload>-egress    to each Service it names; to the API server (`apiServerCIDR`, TCP 443 and 6443) when its
                         pods keep a ServiceAccount token

A client names a Service in env values, args/command and loaded ConfigMaps (envFrom, configMapKeyRef, mounted
ConfigMaps), as `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.cluster.local`, `scheme://svc:port`, `svc:port`, or a
StatefulSet pod `db-0.db`. Ports are the Service's target ports, named ones resolved through the server's
containers. Before:

    env: [{name: CART_SERVICE_ADDR, value: "cartservice:7070"}]      # in Deployment frontend

after (generated, besides the cartservice-ingress that allows it from frontend):

    kind: NetworkPolicy
    metadata:
      name: frontend-egress
      labels: {app.kubernetes.io/managed-by: kharden}
      annotations: {kharden.dev/why: "egress[0] to Deployment/cartservice: env CART_SERVICE_ADDR ... (file)"}
    spec:
      podSelector: {matchLabels: {app: frontend}}
      policyTypes: [Egress]
      egress: [{to: [{podSelector: {matchLabels: {app: cartservice}}}], ports: [{protocol: TCP, port: 7070}]}]

Existing NetworkPolicies are respected: no default-deny where one isolates the namespace, no per-workload policy
of a type an existing policy already decides for those pods, no name already taken (`-kharden`, `-kharden-2`, ...
are appended). Their pod-to-pod rules are mirrored: if one lets B receive from A, A gets the egress to B, so the
generated default-deny does not cut traffic the author allowed. Pods behind admission webhooks and APIServices
accept the API server's CIDR.

Warnings (`netpol.*`): externalname, no-selector, host-network, named-port, unresolved-host (a host that looks
like a Service but is not in the input; plain words, paths, image names and external names are not reported),
unknown-port, unknown-namespace, unselectable, exposed (LoadBalancer/NodePort), apiserver-cidr,
ingress-controller; `netpol.existing-policy` notes where an existing policy made a generated one unnecessary.

Options (`Options`): dnsNamespace, dnsPodLabels, dnsPort (the DNS pods' port), nodeLocalDNS (address, "" = off),
ingressControllerNamespace / ingressControllerPodLabels (the peer allowed into Ingress backends; never "any pod"),
gatewayNamespace / gatewayPodLabels (for Gateway API routes; empty = the pods of each parentRef Gateway, by the
standard label gateway.networking.k8s.io/gateway-name), apiServerCIDR
(comma-separated; "" = unknown, warned), apiServerPorts (443 and 6443), clusterDomain.

Limits: addresses compiled into images (never written in the manifests) are not derived; declare them with the
pod annotation `kharden.dev/connects-to: "svc:port, other.ns:9000"`. Egress outside the cluster (the internet,
ExternalName targets) is never generated.
"""

from __future__ import annotations

from typing import Any, Callable

from kharden.generators.base import Generated
from kharden.know.api_use import given_or_learned
from kharden.read import KObject

from .netpol.existing import read_existing
from .netpol.graph import reference_edges
from .netpol.inventory import build
from .netpol.policies import build_policies
from .netpol.mirror import mirror_existing, webhook_edges
from .netpol.options import Options as Options  # the registry reads it here
from .netpol.references import HostIndex
from .netpol.routes import api_cidrs, api_server_edges, controller_egress, exposed_edges, route_edges, service_warnings
from .netpol.rules import Allow

ID = "networkPolicies"


def generate(objects: list[KObject], opts: Options, editor_for: Callable[[KObject], Any],
             **kw: Any) -> Generated:
    """Derive the policies from the whole input. Pure: reads the objects, edits none of them.

    Keyword arguments it knows: `pod_templates` (the profile's custom kinds), `generated` (objects earlier
    generators made, e.g. rbac's ServiceAccounts), `know` (`kharden.know.Knowledge`: why a workload uses the API,
    named in its API-server egress rule); others are ignored.
    """
    inv = build(objects, kw.get("pod_templates"), kw.get("generated") or ())
    index = HostIndex(inv, str(opts.cluster_domain))
    allow = Allow()
    service_warnings(inv, allow)
    reference_edges(inv, index, allow)
    route_edges(inv, index, opts, allow)
    exposed_edges(inv, allow)
    use = given_or_learned(objects, kw.get("know"), kw.get("pod_templates"), kw.get("audit_log"))
    api_server_edges(inv, opts, allow, use)
    controller_egress(inv, opts, allow)
    mirror_existing(inv, allow)
    webhook_edges(inv, index, objects, api_cidrs(opts), allow)
    policies = build_policies(inv, allow, read_existing(inv.policies, int(opts.dns_port)), opts)
    return Generated(policies, allow.findings())
