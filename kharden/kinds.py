"""Where each built-in kind keeps its pod template: data that reading (validation) and finding both need.

Custom resources that embed a pod template (Argo Rollout `spec.template`, ...) are declared in the profile under
`podTemplates`. Source: the Kubernetes API reference of each kind (v1.31).
"""

from __future__ import annotations

from kharden.model import Path

# kind -> path of the pod *template* (the mapping holding metadata + spec); () means the object is the pod.
BUILTIN_TEMPLATES: dict[str, Path] = {
    "Pod": (),
    "PodTemplate": ("template",),
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "ReplicationController": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
BUILTIN_GROUPS = {"", "v1", "apps", "extensions", "batch"}
