"""kharden.read.documents: a stream read document by document answers exactly as libyaml reading it whole.

Each document subset declines (a flow mapping, a tag, an anchor, an odd character) is read by libyaml and its node
tree moved to where its text stands; the others are read by subset. The values and every node's tag, style and
position must be libyaml's for the whole stream, or `read` must decline the stream (then libyaml reads it whole).
Checked on hand-picked mixes, on streams that hypothesis writes (subset's grammar, with odd documents between), on
every corpus file, and on corpus files joined with a flow-style document between them.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, note, settings, strategies as st

from kharden.read import documents, parse_text
from kharden.read.limits import MAX_SCALAR_CHARS
from tests.conftest import corpus_files
from tests.test_positions import differences
from tests.test_subset import SETTINGS, UNSURE, same, stream

FLOW = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: {app: x, tier: web}\ndata:\n  a: '1'\n"
BLOCK = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s  # c\nspec:\n  ports:\n  - port: 80\n"


def agrees(text: str) -> bool | None:
    """Whether `read` read the stream with subset's help (True) or declined it (None); it must agree with libyaml."""
    got = documents.read(text, "-")
    if got is None:
        return None
    theirs = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    values = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    assert len(got) == len(theirs), (len(got), len(theirs))
    for (node, value, _), their_node, their_value in zip(got, theirs, values):
        assert same(value, their_value), (value, their_value)
        found = list(differences(node, their_node))
        assert not found, found[:5]
    return True


MIXED = [
    FLOW + "---\n" + BLOCK, BLOCK + "---\n" + FLOW, BLOCK + "---\n" + FLOW + "---\n" + BLOCK,
    "# head\n---\n" + FLOW + "--- # c\n" + BLOCK + "\n\n# tail\n", FLOW.replace("\n", "\r\n") + "---\r\n" + BLOCK,
    BLOCK + "---\na: &x {b: 1}\nc: *x\n---\n" + BLOCK, BLOCK + "---\n" + "- !!str 1\n- {a: [b]}\n",
    BLOCK + "---\nk: |\n  text\n\n---\nm: {a: 1}\n", BLOCK + "---\nk: 'a\tb'\n", BLOCK + "---\nk:\tv\n---\n" + BLOCK,
    BLOCK + "--- {a: 1}\n---\n" + BLOCK, BLOCK + "---\n" + FLOW.rstrip("\n"),
]


@pytest.mark.parametrize("text", MIXED)
def test_mixed_streams_read_as_libyaml_with_the_block_documents_by_subset(text: str) -> None:
    assert agrees(text)
    kinds = [type(node).__name__ for node, _, _ in documents.read(text, "-") or []]
    assert "BlockMapping" in kinds  # the block documents were read by subset, not handed to libyaml


@pytest.mark.parametrize("text", [
    "%YAML 1.1\n---\n" + BLOCK + "---\n" + FLOW,  # a directive reaches into the next document
    BLOCK + "---\n---\n" + FLOW,  # an empty document: libyaml places its null
    BLOCK + "---\na: 1\n...\nb: {c: 1}\n",  # two documents in one piece
    BLOCK + "---\na: {b: 1\n---\n" + BLOCK,  # an error: libyaml reading the whole stream reports it
    BLOCK + "---\na: 1\rb: {c: 1}\n",  # a lone CR
    FLOW, FLOW + "---\n" + FLOW,  # nothing for subset: libyaml reads all of it in one piece, as before
])
def test_declines_what_cannot_be_cut_plainly(text: str) -> None:
    assert documents.read(text, "-") is None


@pytest.mark.parametrize("text", UNSURE)
def test_what_subset_declines_still_reads_as_libyaml_beside_a_block_document(text: str) -> None:
    try:
        list(yaml.load_all(BLOCK + "---\n" + text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        assert documents.read(BLOCK + "---\n" + text, "-") is None
        return
    agrees(BLOCK + "---\n" + text)


def test_a_document_over_the_scalar_limit_is_read_by_libyaml_alone() -> None:
    big = "kind: ConfigMap\ndata:\n  k: " + "x" * (MAX_SCALAR_CHARS // 2) + "\n  j: " + "y" * (MAX_SCALAR_CHARS // 2) + "\n"
    text = BLOCK + "---\n" + big + "---\n" + BLOCK
    got = documents.read(text, "-")
    assert got is not None and [type(n).__name__ for n, _, _ in got] == ["BlockMapping", "MappingNode", "BlockMapping"]
    assert agrees(text)


@st.composite
def mixed(draw: Any) -> str:
    docs = [draw(stream(odds=False)) if draw(st.booleans()) else draw(st.sampled_from([FLOW, BLOCK, "a: {b: 1}"]))
            for _ in range(draw(st.integers(2, 4)))]
    return "".join(d if d.endswith("\n") else d + "\n" for d in docs[:1]) + "".join(
        "---\n" + d + ("" if d.endswith("\n") else "\n") for d in docs[1:])


@settings(parent=SETTINGS, max_examples=max(SETTINGS.max_examples // 5, 20))
@given(mixed())
def test_generated_mixed_streams(text: str) -> None:
    note(text)
    try:
        list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        assert documents.read(text, "-") is None
        return
    agrees(text)


def test_corpus_files_and_corpus_files_joined_by_a_flow_document() -> None:
    read = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
        try:
            list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        except yaml.YAMLError:
            continue
        joined = BLOCK + "---\n" + FLOW + ("" if text.startswith("---") else "---\n") + text
        if agrees(joined):
            read += 1
    assert read >= 200


def test_parse_text_reads_a_flow_document_without_losing_the_block_ones() -> None:
    source = parse_text(BLOCK + "---\n" + FLOW + "---\n" + BLOCK, "x.yaml")
    assert [d.index for d in source.docs] == [0, 1, 2]
    assert [d.line_of(("metadata", "name")) for d in source.docs] == [4, 12, 20]
    assert type(source.docs[0].node).__name__ == "BlockMapping"
