"""YAML merge keys (`<<: *anchor`) read, hardened and spliced correctly (issue 21, item 3).

PyYAML and `kubectl kustomize` accept these files; kharden refused them ("duplicate key 'name'") or spliced
container b's edits into container a's anchored block. Each file is fixed, the output must read (by PyYAML, the
reader the API server's YAML 1.1 matches) to exactly the values kharden meant, a second run changes nothing, and
the anchored mapping keeps only what its own container needs.
"""

from __future__ import annotations

import os

import pytest
import yaml

from kharden import run
from kharden.errors import InputError, InternalError
from kharden.read import parse_text
from kharden.render import splice

DATA = os.path.join(os.path.dirname(__file__), "data", "merge")
FILES = sorted(f for f in os.listdir(DATA) if f.endswith(".yaml"))


def _fix(text: str, name: str) -> tuple[str, run.FixOutcome]:
    outcome = run.fix_sources([parse_text(text, name)], "restricted", generate=False)
    return outcome.outputs.get(name, text), outcome


@pytest.mark.parametrize("name", FILES)
def test_merge_key_file_is_hardened_and_reads_back(name: str) -> None:
    text = open(os.path.join(DATA, name)).read()
    out, outcome = _fix(text, name)
    assert out != text
    assert list(yaml.safe_load_all(out)) == [d.data for s in outcome.result.sources for d in s.docs]
    again, second = _fix(out, name)
    assert again == out and not second.result.changes


def _containers(text: str) -> list[dict]:
    obj = yaml.safe_load(text)
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    return spec["containers"]


@pytest.mark.parametrize("name", FILES)
def test_every_container_is_hardened_on_its_own(name: str) -> None:
    out, _ = _fix(open(os.path.join(DATA, name)).read(), name)
    for c in _containers(out):
        assert c["securityContext"]["allowPrivilegeEscalation"] is False, c["name"]
        assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], c["name"]


def test_an_opt_out_of_one_container_does_not_reach_the_anchor() -> None:
    out, _ = _fix(open(os.path.join(DATA, "nested.yaml")).read(), "nested.yaml")
    a, b = _containers(out)
    assert a["securityContext"]["readOnlyRootFilesystem"] is True
    assert b["securityContext"]["readOnlyRootFilesystem"] is False  # opted out, kept as written
    assert "<<: *sc" in out


def test_merged_names_are_no_duplicate_key() -> None:
    source = parse_text(open(os.path.join(DATA, "container.yaml")).read(), "container.yaml")
    run.validate([source])  # raised "duplicate key 'name'" before
    assert [c["name"] for c in source.docs[0].data["spec"]["template"]["spec"]["containers"]] == ["a", "b"]


def test_an_edit_that_does_not_read_is_an_internal_error_not_the_inputs() -> None:
    source = parse_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n", "p.yaml")
    with pytest.raises(InternalError) as caught:
        splice.verify(source, "apiVersion: v1\nkind: Pod\nmetadata: {name: p\n")
    assert caught.value.exit_code == 3 and not isinstance(caught.value, InputError)
    assert "internal error" in str(caught.value)
