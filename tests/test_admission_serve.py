"""`kharden serve` for real: a server process over TLS, AdmissionReviews built from the corpus.

The contract: for every object of the corpus, the patch /mutate returns, applied to the object, gives the object
`kharden fix --no-generate` writes (compared parsed, as the API server would see them); and an object `fix`
already hardened gets no patch at all (GitOps: no drift between git and the cluster).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml

pytest.importorskip("uvicorn", reason="kharden serve needs uvicorn (pip install 'kharden[serve]')")
pytest.importorskip("cryptography", reason="the test certificates need the cryptography package")

from kharden.errors import KhardenError  # noqa: E402
from tests.admission_helpers import Server, as_json, patched, start  # noqa: E402
from tests.conftest import corpus_files  # noqa: E402

# restricted, everywhere: the corpus has kube-system objects, which `fix` hardens and the default settings protect.
# The mutators admission never runs (kharden.admission.adapter.NOT_AT_ADMISSION: a token's use is learned from the
# bindings beside the pod, an API version is the API server's) are off for the `fix` it is compared with.
PROFILE = ("extends: restricted\nadmission: {protectedNamespaces: []}\n"
           "mutators: {automountServiceAccountToken: {enabled: false}, apiVersions: {enabled: false}}\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("serve")
    (d / "profile.yaml").write_text(PROFILE)
    s = start(d, str(d / "profile.yaml"))
    yield s
    assert s.stop() == 0, s.log.read_text()


def _objects(text: str) -> list[Any]:
    out: list[Any] = []
    for doc in yaml.load_all(text, Loader=yaml.CSafeLoader):
        if isinstance(doc, dict) and str(doc.get("kind", "")).endswith("List") and isinstance(doc.get("items"), list):
            out += doc["items"]
        else:
            out.append(doc)
    return [as_json(o) for o in out]


def corpus_pairs(profile: str) -> list[tuple[str, Any, Any]]:
    """(label, object as read, object as `kharden fix --no-generate` writes it) for every object of every corpus
    file `fix` accepts."""
    from kharden import run
    from kharden.read import read_paths

    pairs = []
    for path in corpus_files():
        text = path.read_text(encoding="utf-8-sig")
        try:
            before = _objects(text)
            outcome = run.fix_sources(read_paths([str(path)]), profile, generate=False)
        except (KhardenError, yaml.YAMLError):
            continue  # refused by fix (or not YAML at all): nothing to compare with
        after = _objects(outcome.text_of(outcome.result.sources[0]).lstrip("\ufeff"))
        assert len(before) == len(after), path
        pairs += [(f"{path.name}#{i}", b, a) for i, (b, a) in enumerate(zip(before, after)) if isinstance(b, dict)]
    return pairs


@pytest.fixture(scope="module")
def pairs(server: Server, corpus: Path) -> list[tuple[str, Any, Any]]:
    return corpus_pairs(str(server.log.parent / "profile.yaml"))


def test_patch_gives_what_fix_gives_over_the_corpus(server: Server, pairs: list[tuple[str, Any, Any]]) -> None:
    client = server.client()
    changed = wrong = 0
    mismatches = []
    for label, before, after in pairs:
        response = client.review("/mutate", before)
        assert response["allowed"] is True, (label, response)
        if patched(before, response) != after:
            wrong += 1
            mismatches.append(label)
        changed += before != after
    assert not mismatches, mismatches[:10]
    assert changed > 200  # the corpus is mostly unhardened: the comparison is not vacuous


def test_fixed_objects_get_no_patch(server: Server, pairs: list[tuple[str, Any, Any]]) -> None:
    client = server.client()
    drift = [label for label, _, after in pairs if "patch" in client.review("/mutate", after)]
    assert not drift, drift[:10]


def test_admission_never_cuts_a_token_or_moves_an_api_version() -> None:
    """The pod arrives alone: whether its ServiceAccount is bound is not in it, so its token stays (argo-cd's
    controllers would lose theirs); and the API server has decoded it at the version it serves."""
    from kharden.admission.adapter import harden_object
    from kharden.profile import load_profile

    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
           "spec": {"containers": [{"name": "c", "image": "registry.example/app:1"}]}}
    ops = harden_object(pod, load_profile("restricted"), generators=False).patch
    assert ops and not any("automountServiceAccountToken" in op["path"] for op in ops), ops
    old = {"apiVersion": "extensions/v1beta1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "app"},
           "spec": {"template": {"metadata": {"labels": {"a": "b"}}, "spec": pod["spec"]}}}
    ops = harden_object(old, load_profile("restricted"), generators=False).patch
    assert ops and not any(op["path"] in ("/apiVersion", "/spec/selector") for op in ops), ops


def test_validate_warns_on_what_mutate_would_fix(server: Server) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "app"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    response = server.client().review("/validate", pod)
    assert response["allowed"] is True
    assert any("runAsNonRoot" in w or "non-root" in w for w in response["warnings"]), response


def test_connections_are_kept_alive(server: Server) -> None:
    """The API server reuses its connections: many answers, one TLS connection."""
    client = server.client()
    client.get("/healthz")
    first = client.conn.sock if client.conn else None
    for _ in range(5):
        client.review("/mutate", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "k"},
                                  "spec": {"containers": [{"name": "c", "image": "x"}]}})
    assert first is not None and client.conn is not None and client.conn.sock is first


def test_probes_and_metrics(server: Server) -> None:
    client = server.client()
    assert client.get("/healthz") == (200, b"ok\n")
    assert client.get("/readyz")[0] == 200
    client.review("/mutate", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    status, text = client.get("/metrics")
    assert status == 200
    assert b'kharden_admission_requests_total{endpoint="mutate",result="skipped"}' in text
    assert b'kharden_admission_duration_seconds_bucket{endpoint="mutate",le="+Inf"}' in text
    assert b"kharden_profile_info{profile=" in text
    assert b'kharden_admission_cache_total{outcome="hit"}' in text  # admission.cache: on by default


def test_logs_are_json_lines(server: Server) -> None:
    server.client().review("/mutate", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "logged"},
                                       "spec": {"containers": [{"name": "c", "image": "x"}]}})
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.strip()]
    admissions = [entry for entry in lines if entry["msg"] == "admission" and entry.get("name") == "logged"]
    assert admissions and admissions[0]["result"] == "patched" and admissions[0]["kind"] == "Pod"
