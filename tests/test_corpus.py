"""kharden on every third-party manifest of ../shared/corpus: nothing lost, idempotent, schema-valid, and no
Pod Security Standards violation left that kharden could have fixed."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonpatch
import kubernetes_validate
import pytest
import yaml
from deepdiff import DeepDiff

from kharden.checks.cluster import FAMILIES as CLUSTER_FAMILIES
from kharden.checks.pss import NOT_FIXABLE
from kharden.errors import KhardenError
from kharden.know import protected
from kharden.model import pointer
from kharden.read import parse_text
from kharden.run import fix_sources
from tests.conftest import CORPUS, corpus_files

FILES = corpus_files()
SCHEMA_VERSION = "1.37.0"


def _id(p: Path) -> str:
    return str(p.relative_to(CORPUS))


# Corpus files kharden must refuse, as kubectl does, with a located error (and the words it must use).
REFUSED = {
    "apps/argo-cd/gitops-engine/pkg/health/testdata/statefulset-ondelete.yaml": "duplicate key 'updateStrategy'",
    "apps/argo-cd/resource_customizations/batch/CronJob/actions/testdata/job.yaml": "document is a list",
}


@pytest.mark.parametrize("path", [p for p in FILES if _id(p) in REFUSED], ids=lambda p: _id(p))
@pytest.mark.parametrize("profile", ["restricted", "strict"])
def test_refused_with_a_located_error(path: Path, profile: str) -> None:
    with pytest.raises(KhardenError) as refused:
        fix_sources([parse_text(path.read_text(encoding="utf-8"), str(path))], profile, generate=False)
    assert REFUSED[_id(path)] in str(refused.value) and refused.value.line is not None


ACCEPTED = [p for p in FILES if _id(p) not in REFUSED]


def _load_all(text: str) -> list[Any]:
    """The objects as Kubernetes reads them (YAML 1.1): PyYAML's safe loading, by libyaml (the pure-Python parser
    took half of argo-cd's install.yaml case; the values are the same)."""
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


@lru_cache(maxsize=None)
def _fixed(path: Path, profile: str):  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    outcome = fix_sources([parse_text(text, str(path))], profile, generate=False)
    return text, outcome, outcome.stream()


@pytest.mark.parametrize("path", ACCEPTED, ids=[_id(p) for p in ACCEPTED])
def test_nothing_lost_and_idempotent(path: Path) -> None:
    text, outcome, out = _fixed(path, "restricted")
    before = _load_all(text)
    after = _load_all(out)
    assert len(after) == len(before)
    # Every difference between input and output is a recorded change: applying the JSON patches to the input
    # objects (YAML 1.1, as Kubernetes reads them) gives exactly the output objects.
    patched = [jsonpatch.JsonPatch([]).apply(d) for d in before]
    for entry in outcome.jsonpatch()["patches"]:
        doc = patched[entry["document"]]
        if "item" in entry:
            doc["items"][entry["item"]] = jsonpatch.apply_patch(doc["items"][entry["item"]], entry["patch"])
        else:
            patched[entry["document"]] = jsonpatch.apply_patch(doc, entry["patch"])
    assert patched == after
    # ... and no leaf of the input disappeared or changed except where a change says so.
    touched = {(c.obj.doc, c.obj.base + c.path) for c in outcome.result.changes}
    diff = DeepDiff(before, after, ignore_order=False, view="tree", threshold_to_diff_deeper=0)
    for kind in ("dictionary_item_removed", "values_changed", "type_changes", "iterable_item_removed"):
        for level in diff.get(kind, []):
            path_list = level.path(output_format="list")
            doc, rest = path_list[0], tuple(path_list[1:])
            assert any(d == doc and rest[: len(p)] == p for d, p in touched), f"{kind} at {pointer(rest)}"
    # A second run changes nothing.
    again = fix_sources([parse_text(out, str(path))], "restricted", generate=False)
    assert again.result.changes == []
    # Lines kharden did not mean to change are byte-identical: the only input lines missing from the output are
    # those of values it replaced or removed, and empty values ({}, [], null) it filled.
    if not any(c.op in ("remove", "replace") for c in outcome.result.changes):
        gone = [line for line in _removed_lines(text, out) if not EMPTY_VALUE.search(line)]
        if path.suffix == ".json":  # JSON: a line gains a comma when an entry is added after it
            gone = [line for line in gone if line + "," not in out.splitlines()]
        assert not gone, f"lines changed that kharden did not mean to change: {gone[:3]}"


EMPTY_VALUE = re.compile(r"(\{\s*\}|\[\s*\]|null|~|:)\s*(#.*)?$")


def _removed_lines(before: str, after: str) -> list[str]:
    a, b = before.splitlines(), after.splitlines()
    out = []
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("delete", "replace"):
            out += a[i1:i2]
    return out


@pytest.mark.parametrize("path", ACCEPTED, ids=[_id(p) for p in ACCEPTED])
def test_no_fixable_violation_left_with_the_strict_profile(path: Path) -> None:
    _, outcome, _ = _fixed(path, "strict")
    left = [f for f in outcome.result.findings if f.status == "unfixed"]
    fixable = [f for f in left if f.rule not in NOT_FIXABLE and f.reason and "opt" not in f.rule]
    fixable = [f for f in fixable if not f.reason.startswith(("opted out", "a Windows pod"))]
    # Images and plaintext secrets are fixed only when asked, with what kharden does not have alone: a lock resolved
    # from a registry (--pin-images), values supplied out of band (--move-secrets). tests/test_images.py and
    # tests/test_secrets.py prove those fixes on the corpus.
    fixable = [f for f in fixable if not f.rule.startswith(("image.", "secret."))]
    # the cluster's own namespaces are reported, never changed; API versions left are those no mechanical move exists for
    fixable = [f for f in fixable if f.reason != protected.LEFT and not f.rule.startswith("api.")]
    fixable = [f for f in fixable if not f.rule.startswith(CLUSTER_FAMILIES)]  # the cluster layer says what it needs
    assert not fixable, "\n".join(f"{f.line}: {f.rule} {f.message} ({f.reason})" for f in fixable)


def _schema_errors(obj: Any) -> str | None:
    try:
        kubernetes_validate.validate(obj, SCHEMA_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        return None  # a CRD or a removed API version: nothing to validate against
    except kubernetes_validate.ValidationError as e:
        return str(e).split("\n")[0]
    except Exception as e:  # noqa: BLE001 - the validator's own failures are not kharden's
        return f"validator: {type(e).__name__}"
    return None


@pytest.mark.parametrize("path", ACCEPTED, ids=[_id(p) for p in ACCEPTED])
def test_output_is_schema_valid_where_the_input_was(path: Path) -> None:
    text, outcome, out = _fixed(path, "restricted")
    changed_docs = {c.obj.doc for c in outcome.result.changes}
    before = _load_all(text)
    after = _load_all(out)
    for i in sorted(changed_docs):
        if not isinstance(before[i], dict) or _schema_errors(before[i]) is not None:
            continue  # invalid before kharden: not ours to judge
        assert _schema_errors(after[i]) is None, _schema_errors(after[i])
