"""kharden.read.positions says where things are exactly as libyaml's node tree says it, and a fix through it is the
same fix.

- Trees: for every text kharden.read.subset reads (the corpus, kharden's output for it, generated texts), the node
  tree made from the outline equals the one libyaml composes: class, tag, value, style, flow style, where each node
  starts, and where each scalar and flow collection ends.
- Fixes: every corpus file fixed through subset and positions, and through libyaml alone, gives the same output
  text, changes, findings (lines included) and generated objects; every value's line is the same both ways.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, note, settings

from kharden.errors import KhardenError
from kharden.read import parse_text, positions, subset
from kharden.read import source as source_module
from kharden.run import fix_sources
from tests.conftest import corpus_files
from tests.test_subset import READ, stream

EXAMPLES = int(os.environ.get("KHARDEN_HYPOTHESIS_EXAMPLES", "100")) * 5
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="KHARDEN_HYPOTHESIS_EXAMPLES" not in os.environ,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _mark(m: Any) -> tuple[int, int, int]:
    return m.index, m.line, m.column


def differences(ours: yaml.Node, theirs: yaml.Node, path: tuple[Any, ...] = ()) -> Iterator[str]:
    """Where the two trees disagree, in anything kharden reads of a node."""
    if type(theirs) not in type(ours).__mro__:
        yield f"{path}: {type(ours).__name__} against {type(theirs).__name__}"
        return
    if ours.tag != theirs.tag:
        yield f"{path}: tag {ours.tag} against {theirs.tag}"
    if _mark(ours.start_mark) != _mark(theirs.start_mark):
        yield f"{path}: starts at {_mark(ours.start_mark)} against {_mark(theirs.start_mark)}"
    if isinstance(theirs, yaml.ScalarNode):
        if (ours.value, ours.style) != (theirs.value, theirs.style):
            yield f"{path}: {ours.value!r} {ours.style!r} against {theirs.value!r} {theirs.style!r}"
    elif bool(ours.flow_style) != bool(theirs.flow_style):
        yield f"{path}: flow style {ours.flow_style} against {theirs.flow_style}"
    if isinstance(theirs, yaml.ScalarNode) or theirs.flow_style:
        if _mark(ours.end_mark) != _mark(theirs.end_mark):
            yield f"{path}: ends at {_mark(ours.end_mark)} against {_mark(theirs.end_mark)}"
    if isinstance(theirs, yaml.ScalarNode):
        return
    if len(ours.value) != len(theirs.value):
        yield f"{path}: {len(ours.value)} entries against {len(theirs.value)}"
        return
    for i, (a, b) in enumerate(zip(ours.value, theirs.value)):
        if isinstance(b, tuple):
            yield from differences(a[0], b[0], path + (f"key {i}",))
            yield from differences(a[1], b[1], path + (b[0].value,))
        else:
            yield from differences(a, b, path + (i,))


def same_trees(text: str) -> bool:
    """True when subset reads `text` and every tree equals libyaml's; False when subset declines it."""
    read = subset.read_outlined(text)
    if read is None:
        return False
    composed = list(yaml.compose_all(text, Loader=yaml.CSafeLoader))
    assert len(composed) == len(read.outlines)
    lines = positions.Text(read.lines, text)
    for outline, theirs in zip(read.outlines, composed):
        if outline is not None:
            found = list(differences(positions.root(lines, outline), theirs))
            assert not found, found[:5]
    return True


@pytest.mark.parametrize("text", READ)
def test_trees_of_hand_picked_texts(text: str) -> None:
    assert same_trees(text)


def test_trees_of_the_corpus_and_its_fixed_output(corpus: Any) -> None:
    read = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
        read += same_trees(text)
        try:
            outcome = fix_sources([parse_text(text, str(path))], "restricted")
        except KhardenError:
            continue
        for s in outcome.result.sources:
            same_trees(outcome.text_of(s).lstrip("\ufeff"))
    assert read >= 400


@SETTINGS
@given(stream())
def test_trees_of_generated_texts(text: str) -> None:
    note(text)
    same_trees(text)


@SETTINGS
@given(stream(odds=False))
def test_trees_of_generated_texts_of_common_tokens(text: str) -> None:
    note(text)
    same_trees(text)


def test_a_block_does_not_say_where_it_ends() -> None:
    """libyaml's end of a block collection (where the next token starts) is not kept: asking is an error, not a
    wrong answer."""
    doc = parse_text("a:\n  b: 1\n# after\nc: 2\n").docs[0]
    assert isinstance(doc.node, positions.BlockMapping)
    with pytest.raises(AttributeError, match="does not keep"):
        doc.node.end_mark


def test_nodes_are_made_only_where_asked() -> None:
    """Reading makes no node, nor does a line asked for (found on the outline); a node asked for makes the blocks
    on its path, and of each only the entry on it."""
    doc = parse_text("a:\n  b: 1\n  c: [x]\nd:\n  e: 2\n").docs[0]
    node = doc.node
    assert isinstance(node, positions.BlockMapping) and not node._made
    assert doc.line_of(("a", "c")) == 3 and doc.line_of(("d", "e", "nothing")) == 5 and not node._made
    assert doc.node_at(("a", "c")) is not None
    assert list(node._made) == [node.present().get("a")]  # d was not made
    inner = node.present()["a"][1]
    assert list(inner._made) == [inner.present().get("c")]


def _lines_both_ways(text: str) -> tuple[list[Any], list[Any]]:
    """line_of every value's path, and of paths that go past what the text has, on the outline and on libyaml's
    node tree of the same text."""
    ours: list[Any] = []
    theirs: list[Any] = []
    for doc, node in zip(parse_text(text).docs, yaml.compose_all(text, Loader=yaml.CSafeLoader)):
        if not isinstance(doc.node, (positions.BlockMapping, positions.BlockSequence)):
            continue
        libyaml = source_module.Document(doc.path, doc.index, node, doc.data)
        for p in _paths(doc.data):
            for asked in (p, p + ("nothing",), p + (0,), p + (5,), p + (True,)):
                ours.append((asked, doc.line_of(asked)))
                theirs.append((asked, libyaml.line_of(asked)))
    return ours, theirs


ODD_PLACES = ["a:\n-\n  x\n-\n  b: 1\n- [1, 2]\n- {}\n-\nc:\n  'q'\nd: |\n  t\n", "- \n  - y\n-\n  x\n",
              "a:\n  -\n    x\n"]  # items and values below their dash or key, nested, empty


@pytest.mark.parametrize("text", READ + ODD_PLACES)
def test_lines_found_on_the_outline_are_libyamls(text: str) -> None:
    ours, theirs = _lines_both_ways(text)
    assert ours == theirs


def test_lines_found_on_the_outline_are_libyamls_over_the_corpus(corpus: Any) -> None:
    compared = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
        if subset.read_stream(text) is None:
            continue
        ours, theirs = _lines_both_ways(text)
        assert ours == theirs, path
        compared += 1
    assert compared >= 400


# -- the same fix both ways ---------------------------------------------------------------------------------------
def _fixed(text: str, path: str, by_subset: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        if not by_subset:
            m.setattr(source_module, "_read_by_subset", lambda source: False)
        source = parse_text(text, path)
        try:
            outcome = fix_sources([source], "restricted")
        except KhardenError as e:
            return ("refused", str(e))
        lines = [(d.index, p, d.line_of(p)) for d in source.docs for p in _paths(d.data)]
        return (outcome.text_of(source), [tuple(c) for c in outcome.result.changes],
                [(f.rule, f.message, f.path, f.line, f.status) for f in outcome.result.findings], outcome.result.generated, lines)


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _paths(value, path + (key,))


def test_the_corpus_is_fixed_the_same_through_either_reader(corpus: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Output, changes, findings with their lines, generated objects and the line of every value."""
    compared = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8")
        if subset.read_stream(text.lstrip("\ufeff")) is None:
            continue  # libyaml reads it either way
        ours = _fixed(text, str(path), True, monkeypatch)
        theirs = _fixed(text, str(path), False, monkeypatch)
        assert ours == theirs, path
        compared += 1
    assert compared >= 400
