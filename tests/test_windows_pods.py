"""Windows pods by every marker Kubernetes uses (issue 21, item 5): mutators add no Linux-only field to them,
while the PSS check still exempts by `spec.os.name` alone, as Pod Security Admission does."""

from __future__ import annotations

import pytest

from kharden.checks.pss import check_objects
from kharden.read import parse_text
from tests.mutating import mutate

BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: w
spec:
  template:
    metadata:
      labels: {app: w}
    spec:
%s      containers:
      - name: app
        image: mcr.microsoft.com/windows/servercore:ltsc2022
%s"""

MARKERS = {
    "os.name": ("      os: {name: windows}\n", ""),
    "nodeSelector": ("      nodeSelector:\n        kubernetes.io/os: windows\n", ""),
    "beta nodeSelector": ("      nodeSelector: {beta.kubernetes.io/os: windows}\n", ""),
    "node affinity": (
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n            - matchExpressions:\n"
        "              - {key: kubernetes.io/os, operator: In, values: [windows]}\n", ""),
    "pod windowsOptions": ("      securityContext:\n        windowsOptions: {runAsUserName: ContainerUser}\n", ""),
    "hostProcess": ("", "        securityContext:\n          windowsOptions: {hostProcess: true}\n"),
}
LINUX_ONLY = ("seccompProfile", "capabilities", "readOnlyRootFilesystem", "runAsUser", "allowPrivilegeEscalation")


@pytest.mark.parametrize("marker", sorted(MARKERS))
def test_windows_pod_gets_no_linux_only_field(marker: str) -> None:
    pod, container = MARKERS[marker]
    run = mutate(BASE % (pod, container))
    touched = {str(p) for c in run.changes for p in [c.path]}
    assert not [p for p in touched if any(f in p for f in LINUX_ONLY)], touched
    assert "/tmp" not in run.text and "emptyDir" not in run.text


@pytest.mark.parametrize("selector", [
    "      nodeSelector: {kubernetes.io/os: linux}\n",
    # one of two required terms allows Linux nodes: the pod may land on Linux, so it is hardened as Linux
    "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
    "            nodeSelectorTerms:\n            - matchExpressions:\n"
    "              - {key: kubernetes.io/os, operator: In, values: [windows]}\n"
    "            - matchExpressions:\n              - {key: kubernetes.io/os, operator: In, values: [linux]}\n",
    "      nodeSelector: {kubernetes.io/os: windows-not}\n",
])
def test_linux_or_either_pod_is_hardened(selector: str) -> None:
    run = mutate(BASE % (selector, ""))
    assert "readOnlyRootFilesystem: true" in run.text and "RuntimeDefault" in run.text


def test_pss_check_exempts_by_os_name_only() -> None:
    """PSA admits a restricted-violating pod only when spec.os.name is windows; a nodeSelector does not exempt."""
    def rules(pod: str) -> set[str]:
        objs = list(parse_text(BASE % (pod, ""), "w.yaml").objects())
        return {f.rule for f in check_objects(objs, "restricted", "latest", None)}

    assert "pss.seccompProfile_restricted" in rules(MARKERS["nodeSelector"][0]) or any(
        "seccomp" in r for r in rules(MARKERS["nodeSelector"][0]))
    assert not any("seccomp" in r for r in rules(MARKERS["os.name"][0]))
