"""A deterministic corpus of Kubernetes manifests for the benchmark.

The mix imitates a repository of hand-written and Helm-rendered manifests: Deployments with several containers,
comments, probes, env and volumes; Services; ConfigMaps with block scalars; CronJobs. About a quarter of the
workloads are already hardened (full pod and container securityContext, resources, a /tmp emptyDir), so
`fix` has both documents to change and documents to copy byte for byte. The same seed gives the same bytes.

Objects are spread over files of 1 to 60 documents, the way a repository spreads them.
"""

from __future__ import annotations

import os
import random
from typing import Callable

SEED = 20261123
HARDENED_SHARE = 0.25

IMAGES = ["nginx:1.27", "redis:7.2", "ghcr.io/acme/api:v2.3.1", "envoyproxy/envoy:v1.31.0", "busybox:1.36",
          "quay.io/prometheus/node-exporter:v1.8.2", "gcr.io/acme/worker@sha256:" + "ab" * 32]
APPS = ["checkout", "cart", "payments", "search", "catalog", "frontend", "auth", "ledger", "mailer", "reports"]


def _pod_security(indent: str) -> str:
    return (
        f"{indent}securityContext:\n"
        f"{indent}  runAsNonRoot: true\n"
        f"{indent}  runAsUser: 10001\n"
        f"{indent}  runAsGroup: 10001\n"
        f"{indent}  fsGroup: 10001\n"
        f"{indent}  seccompProfile:\n"
        f"{indent}    type: RuntimeDefault\n"
        f"{indent}automountServiceAccountToken: false\n"
    )


def _container_security(indent: str) -> str:
    return (
        f"{indent}securityContext:\n"
        f"{indent}  allowPrivilegeEscalation: false\n"
        f"{indent}  privileged: false\n"
        f"{indent}  readOnlyRootFilesystem: true\n"
        f"{indent}  capabilities:\n"
        f"{indent}    drop: [\"ALL\"]\n"
    )


def _container(rnd: random.Random, name: str, indent: str, hardened: bool) -> str:
    """One container as block YAML at `indent` (the dash's column)."""
    i = indent + "  "
    out = f"{indent}- name: {name}\n{i}image: {rnd.choice(IMAGES)}  # pinned by the release job\n"
    if rnd.random() < 0.7:
        out += f"{i}ports:\n{i}- containerPort: {rnd.choice([80, 8080, 8443, 9090, 6379])}\n{i}  protocol: TCP\n"
    if rnd.random() < 0.6:
        out += f"{i}env:\n"
        for k in range(rnd.randint(1, 4)):
            out += f'{i}- name: VAR_{k}\n{i}  value: "{rnd.choice(["yes", "0644", "1.10", "on", "plain"])}"\n'
    if rnd.random() < 0.5:
        out += (f"{i}readinessProbe:\n{i}  httpGet:\n{i}    path: /healthz\n{i}    port: 8080\n"
                f"{i}  periodSeconds: 10\n")
    if hardened or rnd.random() < 0.3:
        out += (f"{i}resources:\n{i}  requests:\n{i}    cpu: 100m\n{i}    memory: 128Mi\n"
                f"{i}  limits:\n{i}    cpu: 500m\n{i}    memory: 256Mi\n")
    if hardened:
        out += _container_security(i)
        out += f"{i}volumeMounts:\n{i}- name: tmp\n{i}  mountPath: /tmp\n"
    elif rnd.random() < 0.2:  # partly hardened: something to merge with, nothing to loosen
        out += f"{i}securityContext:\n{i}  capabilities:\n{i}    add: [NET_BIND_SERVICE]\n"
    return out


def _pod_spec(rnd: random.Random, app: str, indent: str, hardened: bool) -> str:
    out = ""
    if hardened:
        out += _pod_security(indent)
    if rnd.random() < 0.3:
        out += f"{indent}initContainers:\n" + _container(rnd, "init-schema", indent, hardened)
    out += f"{indent}containers:\n"
    for c in range(rnd.randint(1, 4)):
        out += f"{indent}# container {c}: see the runbook\n" if rnd.random() < 0.3 else ""
        out += _container(rnd, app if c == 0 else f"{app}-sidecar-{c}", indent, hardened)
    if hardened:
        out += f"{indent}volumes:\n{indent}- name: tmp\n{indent}  emptyDir: {{}}\n"
    return out


def _labels(app: str, indent: str) -> str:
    return f"{indent}labels:\n{indent}  app.kubernetes.io/name: {app}\n{indent}  app.kubernetes.io/part-of: shop\n"


def deployment(rnd: random.Random, n: int) -> str:
    app = f"{rnd.choice(APPS)}-{n}"
    hardened = rnd.random() < HARDENED_SHARE
    return (
        f"# Source: shop/templates/{app}.yaml\n"
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: shop\n"
        + _labels(app, "  ")
        + f"  annotations:\n    owner: team-{n % 7}  # escalation contact\nspec:\n"
        f"  replicas: {rnd.randint(1, 5)}\n  selector:\n    matchLabels:\n      app.kubernetes.io/name: {app}\n"
        f"  template:\n    metadata:\n" + _labels(app, "      ") + "    spec:\n"
        + _pod_spec(rnd, app, "      ", hardened)
    )


def cronjob(rnd: random.Random, n: int) -> str:
    app = f"{rnd.choice(APPS)}-report-{n}"
    hardened = rnd.random() < HARDENED_SHARE
    return (
        f"apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: {app}\n  namespace: shop\n"
        f'spec:\n  schedule: "{rnd.randint(0, 59)} */6 * * *"  # every six hours\n'
        f"  concurrencyPolicy: Forbid\n  jobTemplate:\n    spec:\n      backoffLimit: 2\n      template:\n"
        f"        spec:\n          restartPolicy: OnFailure\n"
        + _pod_spec(rnd, app, "          ", hardened)
    )


def service(rnd: random.Random, n: int) -> str:
    app = f"{rnd.choice(APPS)}-{n}"
    return (
        f"apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: shop\n" + _labels(app, "  ")
        + f"spec:\n  type: ClusterIP\n  selector:\n    app.kubernetes.io/name: {app}\n  ports:\n"
        f"  - name: http\n    port: 80\n    targetPort: {rnd.choice([8080, 'http'])}\n    protocol: TCP\n"
    )


def configmap(rnd: random.Random, n: int) -> str:
    app = f"{rnd.choice(APPS)}-config-{n}"
    lines = "".join(f"    key{k} = value-{rnd.randint(0, 9999)}\n" for k in range(rnd.randint(2, 12)))
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {app}\n  namespace: shop\ndata:\n"
        f'  LOG_LEVEL: "info"\n  FEATURE_FLAG: "yes"\n  MODE: "0644"\n  app.ini: |\n    [main]\n' + lines
    )


KINDS: list[tuple[float, Callable[[random.Random, int], str]]] = [
    (0.40, deployment), (0.25, service), (0.20, configmap), (0.15, cronjob),
]


def documents(count: int, seed: int = SEED) -> list[str]:
    """`count` documents (each one object), deterministic for a seed."""
    rnd = random.Random(seed)
    weights = [w for w, _ in KINDS]
    makers = [m for _, m in KINDS]
    return [rnd.choices(makers, weights)[0](rnd, n) for n in range(count)]


def write_corpus(directory: str, count: int, seed: int = SEED) -> list[str]:
    """Write `count` objects as files of 1-60 documents under directory; returns the file paths in order."""
    os.makedirs(directory, exist_ok=True)
    rnd = random.Random(seed + 1)
    docs = documents(count, seed)
    paths: list[str] = []
    i = 0
    while i < len(docs):
        size = rnd.randint(1, 60)
        path = os.path.join(directory, f"manifests-{len(paths):04d}.yaml")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("---\n".join(docs[i : i + size]))
        paths.append(path)
        i += size
    return paths
