"""The shapes of the fields kharden reads or writes, as data: kharden.read.validate checks each object against them.

A shape: a type (or tuple of types) for a scalar, a dict for a mapping whose listed keys are checked (others pass),
a one-item list for a list of that shape. null is accepted for every field, never for a list item. The fields and
their types are the Kubernetes API's (https://kubernetes.io/docs/reference/kubernetes-api/).
"""

from __future__ import annotations

from typing import Any, Union

Shape = Union[type, tuple[type, ...], dict[str, Any], list[Any], None]

INT = (int,)  # bool is rejected separately: in Python True is an int
INT_OR_STR = (int, str)  # ports and quantities may be numbers or names
STRS: list[Shape] = [str]
LABEL_SELECTOR: dict[str, Shape] = {"matchLabels": {}, "matchExpressions": [{"key": str, "values": STRS}]}
SECURITY_CONTEXT: dict[str, Shape] = {
    "runAsNonRoot": bool, "runAsUser": INT, "runAsGroup": INT, "fsGroup": INT, "supplementalGroups": [INT],
    "privileged": bool, "allowPrivilegeEscalation": bool, "readOnlyRootFilesystem": bool, "procMount": str,
    "capabilities": {"add": STRS, "drop": STRS},
    "seccompProfile": {"type": str, "localhostProfile": str},
    "appArmorProfile": {"type": str, "localhostProfile": str},
    "seLinuxOptions": {"user": str, "role": str, "type": str, "level": str},
    "windowsOptions": {"hostProcess": bool}, "sysctls": [{"name": str, "value": str}],
}
CONTAINER: dict[str, Shape] = {
    "name": str, "image": str, "command": STRS, "args": STRS, "securityContext": SECURITY_CONTEXT,
    "resources": {"limits": {}, "requests": {}}, "restartPolicy": str,
    "volumeMounts": [{"name": str, "mountPath": str, "readOnly": bool}],
    "ports": [{"containerPort": INT, "hostPort": INT, "protocol": str, "name": str}],
    "env": [{"name": str, "value": str, "valueFrom": {}}], "envFrom": [{"configMapRef": {}, "secretRef": {}}],
}
POD_SPEC: dict[str, Shape] = {
    "securityContext": SECURITY_CONTEXT, "os": {"name": str},
    "initContainers": [CONTAINER], "containers": [CONTAINER], "ephemeralContainers": [CONTAINER],
    "volumes": [{"name": str, "hostPath": {"path": str}, "emptyDir": {}, "secret": {}, "configMap": {},
                 "projected": {"sources": [{}]}}],
    "hostNetwork": bool, "hostPID": bool, "hostIPC": bool, "hostUsers": bool,
    "automountServiceAccountToken": bool, "serviceAccountName": str,
}
METADATA: dict[str, Shape] = {"name": str, "namespace": str, "labels": {}, "annotations": {}}
POD_TEMPLATE: dict[str, Shape] = {"metadata": METADATA, "spec": POD_SPEC}

# The other kinds kharden's checks and generators read (NetworkPolicies from Services, Ingresses and routes; RBAC).
SERVICE_BACKEND: dict[str, Shape] = {"name": str, "port": {"number": INT, "name": str}}
INGRESS_BACKEND: dict[str, Shape] = {"service": SERVICE_BACKEND, "serviceName": str, "servicePort": INT_OR_STR}
PEERS: list[Shape] = [{"podSelector": LABEL_SELECTOR, "namespaceSelector": LABEL_SELECTOR, "ipBlock": {"cidr": str}}]
NETPOL_RULE: dict[str, Shape] = {"from": PEERS, "to": PEERS, "ports": [{"port": INT_OR_STR, "protocol": str}]}
RBAC_RULES: dict[str, Shape] = {"rules": [{"apiGroups": STRS, "resources": STRS, "verbs": STRS, "resourceNames": STRS,
                                           "nonResourceURLs": STRS}]}
RBAC_BINDING: dict[str, Shape] = {"subjects": [{"kind": str, "name": str, "namespace": str}],
                                  "roleRef": {"kind": str, "name": str, "apiGroup": str}}
SERVICE_REF: dict[str, Shape] = {"name": str, "namespace": str, "port": INT, "path": str}
WEBHOOKS: dict[str, Shape] = {"webhooks": [{"name": str, "clientConfig": {"service": SERVICE_REF, "url": str}}]}
# By kind alone, as the generators read them (an Ingress is an Ingress in networking.k8s.io and in extensions).
KIND_SHAPES: dict[str, dict[str, Shape]] = {
    "Service": {"spec": {"selector": {}, "type": str,
                         "ports": [{"port": INT, "targetPort": INT_OR_STR, "protocol": str, "name": str}]}},
    "ServiceAccount": {"automountServiceAccountToken": bool},
    "Ingress": {"spec": {"ingressClassName": str, "defaultBackend": INGRESS_BACKEND, "backend": INGRESS_BACKEND,
                         "rules": [{"host": str, "http": {"paths": [{"path": str, "backend": INGRESS_BACKEND}]}}]}},
    "NetworkPolicy": {"spec": {"podSelector": LABEL_SELECTOR, "policyTypes": STRS, "ingress": [NETPOL_RULE],
                               "egress": [NETPOL_RULE]}},
    **{route: {"spec": {"parentRefs": [{"name": str, "namespace": str}], "hostnames": STRS,
                        "rules": [{"backendRefs": [{"name": str, "namespace": str, "port": INT}]}]}}
       for route in ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")},
    "APIService": {"spec": {"service": SERVICE_REF}},
    "ValidatingWebhookConfiguration": WEBHOOKS, "MutatingWebhookConfiguration": WEBHOOKS,
    "Role": RBAC_RULES, "ClusterRole": RBAC_RULES, "RoleBinding": RBAC_BINDING, "ClusterRoleBinding": RBAC_BINDING,
}
WORKLOAD_SPEC: dict[str, Shape] = {"selector": LABEL_SELECTOR}

