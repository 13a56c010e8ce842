"""Each image's pod as a user would write it, hardened by kharden in each way, run and asked to serve.

A scenario's manifest is the smallest Deployment for the image (its port, and what the server needs set to start
at all, e.g. POSTGRES_PASSWORD). The variants:
- original: the manifest as written;
- hardened: `kharden fix` with no image knowledge asked for (what kharden writes offline; the built-in catalog
  applies only when it knows the image's name, and these images live in a local registry, as a mirror's would,
  at 127.0.0.1:PORT/library/NAME);
- catalog: `kharden fix` offline on the manifest naming the official image (`nginx:1.22`, `postgres:15`...; a
  corpus manifest keeps the image its authors wrote), so the built-in catalog applies; then our image runs in its
  place: it is built to behave as the official one (same users, IDs, paths, entrypoint steps);
- configured: `kharden fix --image-config FILE`, FILE holding what `skopeo inspect --config` says of each image
  (offline knowledge: the config only, no layers, so no /etc/passwd and no VOLUME content);
- resolved: `kharden fix --resolve-images`, reading each image from the real registry (kharden's image cache is
  new for each registry session, so every image is read from the registry).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.runtime.build import Prepared
from tests.runtime.runner import REPO, Outcome, run_pod

VARIANTS: dict[str, tuple[str, ...] | None] = {
    "original": None,
    "hardened": (),
    "catalog": (),
    "configured": ("--image-config", "{configs}"),
    "resolved": ("--resolve-images",),
}
PROBES = {"nginx": "http", "redis": "redis", "memcached": "memcached", "postgres": "postgres"}


@dataclass(frozen=True)
class Scenario:
    """A table row: an image, and what the manifest's author already set in the pod's securityContext; or a
    Deployment of the third-party corpus (`corpus`: file, Deployment name) with its image replaced by ours."""

    name: str
    image: str
    pod_context: dict[str, Any] = field(default_factory=dict)
    corpus: tuple[str, str] | None = None


SCENARIOS = (
    Scenario("nginx", "nginx"),
    Scenario("redis", "redis"),
    Scenario("memcached", "memcached"),
    # The kubelet refuses runAsNonRoot for an image whose USER is a name, unless runAsUser gives the number.
    Scenario("memcached, runAsNonRoot set by its author", "memcached", {"runAsNonRoot": True}),
    Scenario("postgres", "postgres"),
    # Third-party manifests, as their authors wrote them, running our redis image in place of theirs.
    Scenario("redis-master (kubernetes/examples guestbook)", "redis",
             corpus=("apps/kubernetes-examples/web/guestbook/redis-master-deployment.yaml", "redis-master")),
    Scenario("redis-cart (microservices-demo, hardened by its authors)", "redis",
             corpus=("apps/microservices-demo/release/kubernetes-manifests.yaml", "redis-cart")),
)
CORPUS = Path(os.environ.get("KHARDEN_CORPUS", REPO.parent / "shared" / "corpus"))


@dataclass(frozen=True)
class Result:
    image: str
    variant: str
    outcome: Outcome
    security: dict[str, Any]  # the pod's and container's securityContext as run, for the record
    notes: tuple[str, ...] = ()  # what kharden said it learned about the image


def corpus_manifest(scenario: Scenario, reference: str | None) -> str:
    """The scenario's Deployment from the corpus, its first container's image replaced by `reference` (if any)."""
    assert scenario.corpus is not None
    path, name = scenario.corpus
    for document in yaml.safe_load_all((CORPUS / path).read_text()):
        if document and document.get("kind") == "Deployment" and document["metadata"]["name"] == name:
            if reference:
                document["spec"]["template"]["spec"]["containers"][0]["image"] = reference
            return yaml.safe_dump(document, sort_keys=False)
    raise LookupError(f"no Deployment {name} in {path}")


def manifest(prepared: Prepared, reference: str, pod_context: dict[str, Any]) -> str:
    image = prepared.image
    container: dict[str, Any] = {"name": image.name, "image": reference,
                                 "ports": [{"containerPort": image.port}]}
    if image.env:
        container["env"] = [{"name": k, "value": v} for k, v in image.env.items()]
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": image.name},
                  "spec": {"selector": {"matchLabels": {"app": image.name}},
                           "template": {"metadata": {"labels": {"app": image.name}},
                                        "spec": {"containers": [container]}}}}
    if pod_context:
        deployment["spec"]["template"]["spec"]["securityContext"] = dict(pod_context)
    return yaml.safe_dump(deployment, sort_keys=False)


def harden(text: str, arguments: tuple[str, ...], cache: Path) -> tuple[str, list[str]]:
    """kharden fix's output for `text`: this checkout's command line, run in this process (a new interpreter per
    call costs seconds on a busy machine), NetworkPolicies left out, its image cache in `cache` (XDG_CACHE_HOME).
    Returns the YAML and what kharden said about the images ([kharden.image] notes, without the file name)."""
    from click.testing import CliRunner

    from kharden.cli import cli

    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as source:
        source.write(text)
        source.flush()
        # The click group itself: kharden.cli.main() would exit the process.
        done = CliRunner().invoke(cli, ["fix", "--no-generate", *arguments, source.name],
                                  env={"XDG_CACHE_HOME": str(cache)}, catch_exceptions=False)
    if done.exit_code != 0:
        raise RuntimeError(f"kharden fix {' '.join(arguments)} failed ({done.exit_code}): {done.output.strip()}")
    notes = [line.split("[kharden.image] ", 1)[1] for line in done.stderr.splitlines() if "[kharden.image] " in line]
    return done.stdout, notes


def pod_spec(text: str) -> dict[str, Any]:
    for document in yaml.safe_load_all(text):
        if document and document.get("kind") == "Deployment":
            return dict(document["spec"]["template"]["spec"])
    raise ValueError("no Deployment in kharden's output")


def run(scenario: Scenario, prepared: Prepared, reference: str, variant: str, work: Path,
        configs: Path | None = None, cache: Path | None = None) -> Result:
    """Run `scenario` in `variant`; `configs` is the --image-config file (from write_image_configs), `cache` the
    image cache kharden is given (empty at first: one per registry session, so each image is read from it once)."""
    if variant == "catalog" and not scenario.corpus:
        reference = prepared.image.official
    if scenario.corpus:
        text = corpus_manifest(scenario, None if variant == "catalog" else reference)
    else:
        text = manifest(prepared, reference, scenario.pod_context)
    arguments = VARIANTS[variant]
    if arguments is not None:
        text, notes = harden(text, tuple(a.format(configs=configs) for a in arguments), cache or work / "image-cache")
    pod = pod_spec(text)
    outcome = run_pod(pod, prepared.image.config, prepared.lowers, work, prepared.image.port,
                      PROBES[prepared.image.name])
    security = {"pod": pod.get("securityContext") or {},
                "container": pod["containers"][0].get("securityContext") or {},
                "mounts": [m["mountPath"] for m in pod["containers"][0].get("volumeMounts") or []]}
    return Result(scenario.name, variant, outcome, security, tuple(notes if arguments is not None else ()))


def write_image_configs(references: dict[str, str], work: Path) -> Path:
    """`skopeo inspect --config` of every image, as one mapping of reference to config (an --image-config file)."""
    configs = {}
    for reference in references.values():
        shown = subprocess.run(["skopeo", "inspect", "--config", "--tls-verify=false", f"docker://{reference}"],
                               check=True, capture_output=True, text=True)
        configs[reference] = json.loads(shown.stdout)
    path = work / "image-configs.json"
    work.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(configs, indent=1))
    return path


def kharden_knows(variant: str) -> bool:
    """Whether this checkout's `kharden fix` has the options `variant` uses."""
    options = [a for a in VARIANTS[variant] or () if a.startswith("--")]
    shown = subprocess.run([sys.executable, "-m", "kharden", "fix", "--help"], cwd=REPO, capture_output=True,
                           text=True)
    return all(option in shown.stdout for option in options)
