"""Proof in a real container runtime (issue 20): each image's pod runs as written and as kharden hardens it.

Images are built from Debian packages with mmdebstrap (cached under ~/.cache/kharden-tests), pushed with skopeo to
Debian's docker-registry on loopback, and run with runc in a network namespace of their own, through the pod-to-OCI
translation in tests/runtime/. The table in docs/runtime.md is this module's record: `python -m tests.runtime.table`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from tests.runtime import components, scenarios
from tests.runtime.build import Prepared, all_images

REASON = components.skip_reason()
pytestmark = pytest.mark.skipif(REASON is not None, reason=REASON or "")
SCENARIOS = {scenario.name: scenario for scenario in scenarios.SCENARIOS}
NAMED_USER_REFUSED = "memcached, runAsNonRoot set by its author"


@dataclass(frozen=True)
class Pushed:
    images: dict[str, Prepared]
    references: dict[str, str]  # image name -> 127.0.0.1:PORT/library/NAME:1
    configs: Path  # what `skopeo inspect --config` says of each, as an --image-config file
    cache: Path  # kharden's image cache for this registry session (XDG_CACHE_HOME)


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pushed]:
    from tests.registry_helpers import registry

    images = {p.image.name: p for p in all_images()}
    with registry() as reg:
        references = {name: reg.push(p.layout, "1", f"library/{name}:1") for name, p in images.items()}
        configs = scenarios.write_image_configs(references, tmp_path_factory.mktemp("cfg"))
        yield Pushed(images, references, configs, tmp_path_factory.mktemp("image-cache"))


def _run(pushed: Pushed, name: str, variant: str, tmp_path: Path) -> scenarios.Result:
    corpus = SCENARIOS[name].corpus
    if corpus and not (scenarios.CORPUS / corpus[0]).is_file():
        pytest.skip(f"third-party corpus not found at {scenarios.CORPUS} (set KHARDEN_CORPUS)")
    if not scenarios.kharden_knows(variant):
        pytest.skip(f"this kharden has no {' '.join(scenarios.VARIANTS[variant] or ())} yet (issue 20 item 3)")
    scenario = SCENARIOS[name]
    return scenarios.run(scenario, pushed.images[scenario.image], pushed.references[scenario.image], variant,
                         tmp_path, pushed.configs, pushed.cache)


@pytest.mark.parametrize("name", [name for name in SCENARIOS if name != NAMED_USER_REFUSED])
def test_the_original_manifest_serves(pushed: Pushed, name: str, tmp_path: Path) -> None:
    result = _run(pushed, name, "original", tmp_path)
    assert result.outcome.serves, result.outcome.detail


def test_the_kubelet_refuses_run_as_non_root_for_a_named_image_user(pushed: Pushed, tmp_path: Path) -> None:
    result = _run(pushed, NAMED_USER_REFUSED, "original", tmp_path)
    assert not result.outcome.serves
    assert "image has non-numeric user (memcache), cannot verify user is non-root" in result.outcome.detail


# Without image knowledge kharden writes today's defaults (UID 10001, drop ALL, read-only root with /tmp only).
# These are the images that breaks, with the error that shows it: the record of what kharden broke.
BROKEN_WITHOUT_KNOWLEDGE = {
    "nginx": "Read-only file system",  # mkdir /var/cache/nginx/client_temp
    "redis": "Permission denied",  # UID 10001 cannot write its dump into /data (the image's, owned by 999)
    "postgres": "Operation not permitted",  # initdb cannot chmod PGDATA, which belongs to 999
    "redis-master (kubernetes/examples guestbook)": "Permission denied",  # as redis
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_hardened_without_image_knowledge_breaks_what_the_record_says(pushed: Pushed, name: str,
                                                                     tmp_path: Path) -> None:
    result = _run(pushed, name, "hardened", tmp_path)
    if name in BROKEN_WITHOUT_KNOWLEDGE:
        assert not result.outcome.serves
        assert BROKEN_WITHOUT_KNOWLEDGE[name] in result.outcome.detail
    else:
        assert result.outcome.serves, result.outcome.detail


OWN_IMAGES = [s.name for s in scenarios.SCENARIOS if not s.corpus]
CORPUS_SERVING_WITH_KNOWLEDGE = ["redis-cart (microservices-demo, hardened by its authors)"]


@pytest.mark.parametrize("name", OWN_IMAGES + CORPUS_SERVING_WITH_KNOWLEDGE)
def test_hardened_with_the_catalog_serves(pushed: Pushed, name: str, tmp_path: Path) -> None:
    result = _run(pushed, name, "catalog", tmp_path)
    assert result.outcome.serves, result.outcome.detail


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_hardened_with_resolve_images_serves(pushed: Pushed, name: str, tmp_path: Path) -> None:
    result = _run(pushed, name, "resolved", tmp_path)
    assert result.outcome.serves, result.outcome.detail
    assert result.security["pod"].get("runAsNonRoot") or result.security["container"].get("runAsNonRoot")


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_hardened_with_image_configs_serves(pushed: Pushed, name: str, tmp_path: Path) -> None:
    """What `skopeo inspect --config` says, without layers: the mirrored images are recognised by their config."""
    result = _run(pushed, name, "configured", tmp_path)
    assert result.outcome.serves, result.outcome.detail
    assert any("recognised by its config" in note for note in result.notes), result.notes
