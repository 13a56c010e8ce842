"""`kharden generate webhook`: valid by schema, clean by kharden's own check, safe to run (it cannot lock the
cluster out), and its self-signed certificate is one the API server would accept for the Service."""

from __future__ import annotations

import os
import re
import ssl
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")
pytest.importorskip("cryptography", reason="--self-signed needs the cryptography package")

REPO = Path(__file__).resolve().parents[1]


def generate(*args: str) -> tuple[str, list[dict[str, Any]]]:
    out = subprocess.run([sys.executable, "-m", "kharden", "generate", "webhook", *args], capture_output=True,
                         text=True, check=True).stdout
    return out, [d for d in yaml.safe_load_all(out) if d]


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[dict[str, Any]]]:
    d = tmp_path_factory.mktemp("webhook") / "tls"
    text, objs = generate("--self-signed", str(d), "--failure-policy", "Ignore")
    return d, text, objs


def test_every_object_validates_against_its_schema(self_signed: Any, tmp_path: Path) -> None:
    d, _, objs = self_signed
    _, cert_manager = generate("--cert-manager")
    secret = yaml.safe_load((d / "secret.yaml").read_text())
    checked = 0
    for obj in objs + cert_manager + [secret]:
        if obj["apiVersion"].startswith("cert-manager.io/"):
            continue  # a CRD: kubernetes-validate has the built-in schemas only
        kubernetes_validate.validate(obj, "1.34", strict=True)
        checked += 1
    assert checked == len(objs) * 2 + 1  # cert-manager adds two CRD objects, skipped


def test_kharden_check_finds_nothing(self_signed: Any, tmp_path: Path) -> None:
    _, text, _ = self_signed
    (tmp_path / "webhook.yaml").write_text(text)
    for extra in (["--profile", "restricted"], ["--profile", "strict"], ["--pss", "restricted"]):
        run = subprocess.run([sys.executable, "-m", "kharden", "check", str(tmp_path / "webhook.yaml"), *extra],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_webhooks_cannot_lock_the_cluster_out(self_signed: Any) -> None:
    _, _, objs = self_signed
    by_kind = {o["kind"]: o for o in objs}
    namespace = by_kind["Namespace"]["metadata"]["name"]
    assert {by_kind["Namespace"]["metadata"]["labels"][f"pod-security.kubernetes.io/{m}"]
            for m in ("enforce", "audit", "warn")} == {"restricted"}
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        (hook,) = by_kind[kind]["webhooks"]
        assert hook["admissionReviewVersions"] == ["v1"] and hook["sideEffects"] == "None"
        assert hook["timeoutSeconds"] <= 10 and hook["failurePolicy"] == "Ignore"
        excluded = hook["namespaceSelector"]["matchExpressions"][0]
        assert excluded["operator"] == "NotIn"
        assert {"kube-system", "kube-node-lease", namespace} <= set(excluded["values"])
        assert "kharden-webhook" in hook["matchConditions"][0]["expression"]
        assert hook["clientConfig"]["service"]["namespace"] == namespace
        assert hook.get("reinvocationPolicy") == ("IfNeeded" if kind.startswith("Mutating") else None)
    deployment = by_kind["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
    assert by_kind["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    assert by_kind["ServiceAccount"]["automountServiceAccountToken"] is False
    assert not {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} & set(by_kind)


def test_keys_are_owner_only_and_never_printed(self_signed: Any) -> None:
    d, text, _ = self_signed
    for name in ("tls.key", "secret.yaml"):
        assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o600
    assert "PRIVATE KEY" not in text and "tls.key" not in text.replace("/tls/tls.key", "")


def test_the_server_serves_the_generated_certificate_for_its_service_name(self_signed: Any) -> None:
    """The API server dials kharden-webhook.<ns>.svc and verifies with caBundle: so does this client."""
    import base64

    from tests.admission_helpers import Server, free_port

    d, _, objs = self_signed
    hook = next(o for o in objs if o["kind"] == "ValidatingWebhookConfiguration")["webhooks"][0]
    (d / "bundle.pem").write_bytes(base64.b64decode(hook["clientConfig"]["caBundle"]))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kharden", "serve", "--tls-cert", str(d / "tls.crt"),
                             "--tls-key", str(d / "tls.key"), "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = Server(proc, port, d / "bundle.pem", d / "log")
    try:
        import socket
        import time

        ctx = ssl.create_default_context(cafile=str(d / "bundle.pem"))
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
                    with ctx.wrap_socket(raw, server_hostname="kharden-webhook.kharden.svc") as s:
                        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                        assert s.recv(100).startswith(b"HTTP/1.1 200")
                        break
            except ConnectionRefusedError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
    finally:
        server.stop()


def test_containerfile_runs_as_a_numeric_non_root_user() -> None:
    text = (REPO / "Containerfile").read_text()
    assert re.search(r"^FROM \S+python:3\.\d+-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and re.fullmatch(r"[1-9]\d*:[1-9]\d*", user[-1])
    assert "PYTHONDONTWRITEBYTECODE=1" in text  # nothing written to a read-only root


def test_the_match_condition_leaves_out_exactly_the_webhooks_own_pods(self_signed: Any) -> None:
    from tests.cel_eval import evaluate

    _, _, objs = self_signed
    hook = next(o for o in objs if o["kind"] == "MutatingWebhookConfiguration")["webhooks"][0]
    expression = hook["matchConditions"][0]["expression"]
    own = {"metadata": {"labels": {"app.kubernetes.io/name": "kharden-webhook"}}}
    assert evaluate(expression, own, request={"namespace": "kharden"}) is False
    assert evaluate(expression, own, request={"namespace": "shop"}) is True  # a look-alike elsewhere is checked
    assert evaluate(expression, {"metadata": {}}, request={"namespace": "kharden"}) is True
