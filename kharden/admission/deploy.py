"""`kharden generate webhook`: everything to run `kharden serve` on the cluster it guards, hardened by kharden's
own rules (`kharden check --profile restricted` finds nothing in it).

    Namespace              PSA restricted (enforce, audit, warn)
    ServiceAccount         no token mounted, no RBAC: the webhook never calls the API server
    Deployment             3 replicas spread over nodes, probes on /readyz and /healthz, requests and limits,
                           non-root, read-only root, no capabilities, RuntimeDefault seccomp
    PodDisruptionBudget    at most one replica down at a time (a drain never takes admission away)
    Service                443 -> 8443
    NetworkPolicy          ingress to 8443 only, no egress at all (kharden works offline)
    Mutating/ValidatingWebhookConfiguration
                           admissionReviewVersions [v1], sideEffects None, timeoutSeconds 5, reinvocationPolicy
                           IfNeeded (mutating), the chosen failurePolicy, a namespaceSelector leaving out
                           kube-system, kube-node-lease and the webhook's own namespace, and a matchCondition leaving
                           out the webhook's own pods: with failurePolicy Fail, a webhook that must admit its own
                           pods cannot come back once all are down; that is how webhooks have locked clusters out.

TLS: `--self-signed DIR` makes a CA and a serving certificate (kharden.admission.certs), puts the CA in `caBundle`
and writes the key files and the TLS Secret into DIR, owner-only (0600): keys never go to standard output.
`--cert-manager` instead emits a self-signed Issuer and a Certificate, and cert-manager's CA injector fills
`caBundle` (annotation `cert-manager.io/inject-ca-from`); the server reloads the rotated files by itself.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

NAME = "kharden-webhook"
SECRET = "kharden-webhook-tls"
PORT = 8443
UID = 10001
# The API groups and resources that carry a pod spec (kharden.find's built-in kinds), and Namespaces.
RULES: list[tuple[str, list[str], list[str]]] = [
    ("", ["pods"], ["CREATE"]),  # a Pod's spec cannot change after creation
    ("", ["namespaces", "replicationcontrollers", "podtemplates"], ["CREATE", "UPDATE"]),
    ("apps", ["deployments", "statefulsets", "daemonsets", "replicasets"], ["CREATE", "UPDATE"]),
    ("batch", ["jobs", "cronjobs"], ["CREATE", "UPDATE"]),
]


@dataclass(frozen=True)
class Options:
    namespace: str = "kharden"
    image: str = "kharden:0.1.0"
    profile: str = "restricted"
    profile_text: str | None = None  # a profile file's text: shipped in a ConfigMap
    failure_policy: str = "Fail"
    ca_bundle: bytes | None = None  # the CA (self-signed); None: cert-manager injects it
    replicas: int = 3
    workers: int = 2


def objects(o: Options) -> list[dict[str, Any]]:
    """The objects to apply, in an order `kubectl apply -f` can create them in."""
    out = [namespace(o), service_account(o)]
    if o.profile_text is not None:
        out.append(_meta("v1", "ConfigMap", f"{NAME}-profile", o) | {"data": {"profile.yaml": o.profile_text}})
    if o.ca_bundle is None:
        out += cert_manager(o)
    out += [deployment(o), disruption_budget(o), service(o), network_policy(o)]
    out += [webhook_configuration(o, "Mutating"), webhook_configuration(o, "Validating")]
    return out


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "kharden"}


def _meta(api: str, kind: str, name: str, o: Options | None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **({"namespace": o.namespace} if o else {}), "labels": _labels()}
    meta.update(extra)
    return {"apiVersion": api, "kind": kind, "metadata": meta}


def namespace(o: Options) -> dict[str, Any]:
    labels = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    obj = _meta("v1", "Namespace", o.namespace, None)
    obj["metadata"]["labels"] = {**_labels(), **labels}
    return obj


def service_account(o: Options) -> dict[str, Any]:
    return _meta("v1", "ServiceAccount", NAME, o) | {"automountServiceAccountToken": False}


def secret(o: Options, cert_pem: bytes, key_pem: bytes) -> dict[str, Any]:
    """The serving certificate as a kubernetes.io/tls Secret (written to a 0600 file by the edge, never printed)."""
    data = {"tls.crt": base64.b64encode(cert_pem).decode(), "tls.key": base64.b64encode(key_pem).decode()}
    return _meta("v1", "Secret", SECRET, o) | {"type": "kubernetes.io/tls", "data": data}


def dns_names(o: Options) -> list[str]:
    return [f"{NAME}.{o.namespace}.svc", f"{NAME}.{o.namespace}.svc.cluster.local", f"{NAME}.{o.namespace}"]


def cert_manager(o: Options) -> list[dict[str, Any]]:
    issuer = _meta("cert-manager.io/v1", "Issuer", NAME, o) | {"spec": {"selfSigned": {}}}
    cert = _meta("cert-manager.io/v1", "Certificate", NAME, o) | {"spec": {
        "secretName": SECRET, "dnsNames": dns_names(o), "duration": "2160h", "renewBefore": "720h",
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "issuerRef": {"name": NAME, "kind": "Issuer"}}}
    return [issuer, cert]


def deployment(o: Options) -> dict[str, Any]:
    args = ["serve", "--profile", "/etc/kharden/profile.yaml" if o.profile_text is not None else o.profile,
            "--tls-cert", "/tls/tls.crt", "--tls-key", "/tls/tls.key", "--listen", f"0.0.0.0:{PORT}",
            "--workers", str(o.workers)]
    probe = {"scheme": "HTTPS", "port": PORT}
    mounts = [{"name": "tls", "mountPath": "/tls", "readOnly": True}, {"name": "tmp", "mountPath": "/tmp"}]
    volumes: list[dict[str, Any]] = [{"name": "tls", "secret": {"secretName": SECRET, "defaultMode": 0o400}},
                                     {"name": "tmp", "emptyDir": {"sizeLimit": "16Mi"}}]
    if o.profile_text is not None:
        mounts.append({"name": "profile", "mountPath": "/etc/kharden", "readOnly": True})
        volumes.append({"name": "profile", "configMap": {"name": f"{NAME}-profile"}})
    container = {
        "name": "kharden", "image": o.image, "imagePullPolicy": "IfNotPresent", "args": args,
        "ports": [{"name": "https", "containerPort": PORT, "protocol": "TCP"}],
        "readinessProbe": {"httpGet": {"path": "/readyz", **probe}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/healthz", **probe}, "periodSeconds": 10, "failureThreshold": 3},
        "startupProbe": {"httpGet": {"path": "/healthz", **probe}, "periodSeconds": 2, "failureThreshold": 30},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": "16Mi"},
                      "limits": {"cpu": "1", "memory": f"{128 + 96 * o.workers}Mi", "ephemeral-storage": "64Mi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "privileged": False, "readOnlyRootFilesystem": True,
                            "runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID,
                            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumeMounts": mounts,
    }
    spread = {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                 "labelSelector": {"matchLabels": _labels()}}}
    pod = {
        "serviceAccountName": NAME, "automountServiceAccountToken": False, "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": UID, "runAsGroup": UID, "fsGroup": UID,
                            "seccompProfile": {"type": "RuntimeDefault"}},
        "affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [spread]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": _labels()}}],
        "terminationGracePeriodSeconds": 30,
        "containers": [container], "volumes": volumes,
    }
    spec = {"replicas": o.replicas, "selector": {"matchLabels": _labels()},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1}},
            "template": {"metadata": {"labels": _labels()}, "spec": pod}}
    return _meta("apps/v1", "Deployment", NAME, o) | {"spec": spec}


def disruption_budget(o: Options) -> dict[str, Any]:
    return _meta("policy/v1", "PodDisruptionBudget", NAME, o) | {
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels()}}}


def service(o: Options) -> dict[str, Any]:
    return _meta("v1", "Service", NAME, o) | {"spec": {
        "selector": _labels(), "ports": [{"name": "https", "port": 443, "targetPort": "https", "protocol": "TCP"}]}}


def network_policy(o: Options) -> dict[str, Any]:
    """The API server is no pod (its address differs by cluster): ingress is open on the webhook port only."""
    return _meta("networking.k8s.io/v1", "NetworkPolicy", NAME, o) | {"spec": {
        "podSelector": {"matchLabels": _labels()}, "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"ports": [{"port": PORT, "protocol": "TCP"}]}], "egress": []}}


def webhook_configuration(o: Options, which: str) -> dict[str, Any]:
    path = "/mutate" if which == "Mutating" else "/validate"
    client: dict[str, Any] = {"service": {"name": NAME, "namespace": o.namespace, "path": path, "port": 443}}
    annotations = {}
    if o.ca_bundle is not None:
        client["caBundle"] = base64.b64encode(o.ca_bundle).decode()
    else:
        annotations["cert-manager.io/inject-ca-from"] = f"{o.namespace}/{NAME}"
    own_pods = (f"request.namespace == '{o.namespace}' && has(object.metadata.labels) && "
                f"'app.kubernetes.io/name' in object.metadata.labels && "
                f"object.metadata.labels['app.kubernetes.io/name'] == '{NAME}'")
    hook: dict[str, Any] = {
        "name": f"{path[1:]}.kharden.dev",
        "admissionReviewVersions": ["v1"], "sideEffects": "None", "timeoutSeconds": 5,
        "failurePolicy": o.failure_policy, "matchPolicy": "Equivalent",
        "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                                                    "values": ["kube-system", "kube-node-lease", o.namespace]}]},
        "matchConditions": [{"name": "not-kharden-itself", "expression": f"!({own_pods})"}],
        "rules": [{"apiGroups": [g], "apiVersions": ["v1"], "operations": ops, "resources": res, "scope": "*"}
                  for g, res, ops in RULES],
        "clientConfig": client,
    }
    if which == "Mutating":
        hook["reinvocationPolicy"] = "IfNeeded"
    obj = _meta("admissionregistration.k8s.io/v1", f"{which}WebhookConfiguration", NAME, None)
    if annotations:
        obj["metadata"]["annotations"] = annotations
    return obj | {"webhooks": [hook]}
