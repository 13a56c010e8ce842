"""The fast paths change speed, never behaviour.

- The resource writer (the KRM function's output) writes the values it is given, over the corpus.
- The direct value construction and dumping equal PyYAML's SafeConstructor and CSafeDumper over the corpus.
- `fix` verifies the changed documents of a file in one pass (kharden.render.fastverify): that pass reads each
  as the reader does, and itself refuses bad edits.
- Generated objects dumped by libyaml (kharden.render.fastdump.safe_dump) are the bytes `yaml.safe_dump` gave: on every
  object the generators make from the corpus and the samples, and by property on the objects it sends to libyaml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from kharden import run
from kharden.render import fastdump
from kharden.errors import KhardenError
from kharden.model import Change
from kharden.render.fastdump import Dumper
from kharden.pipeline import Request, run as run_pipeline
from kharden.read import parse_text
from kharden.read.fastload import Loader

from .conftest import CORPUS, corpus_files

FILES = corpus_files()
PROFILE = "restricted"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_the_resource_writer_writes_the_values_it_is_given(path: Path) -> None:
    """kharden's one writer of whole streams (the KRM ResourceList): libyaml's emitter, the values SafeDumper would
    write, timestamps as RFC 3339."""
    # libyaml reads and emits (C), PyYAML's SafeRepresenter decides the values (as in SafeDumper): the same values as
    # the pure-Python SafeLoader/SafeDumper, read 10x faster (argo-cd's 1.9 MB install.yaml took most of a minute).
    values = [d for d in yaml.load_all(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) if d is not None]
    text = fastdump.dump_resource({"items": values})
    written = yaml.load(text, Loader=yaml.CSafeLoader)
    assert written == {"items": values}
    assert written == yaml.load(yaml.dump({"items": values}, Dumper=yaml.CSafeDumper), Loader=yaml.CSafeLoader)


def test_direct_construction_and_dumping_equal_pyyaml(corpus: Path) -> None:
    kw: dict[str, Any] = dict(sort_keys=False, default_flow_style=False, width=1 << 16, allow_unicode=True)
    for path in FILES:
        text = path.read_text(encoding="utf-8")
        want = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        assert list(yaml.load_all(text, Loader=Loader)) == want, path
        assert [d.data for d in parse_text(text, str(path)).docs] == want, path
        assert yaml.dump_all(want, Dumper=Dumper, **kw) == yaml.dump_all(want, Dumper=yaml.CSafeDumper, **kw), path


def test_direct_construction_keeps_aliases_and_unusual_tags() -> None:
    text = "a: &x {k: [1]}\nb: *x\nc: [*x]\nm:\n  <<: *x\n  z: 1\ns: !!set {p, q}\nt: 2001-12-14\no: 0644\ny: yes\n"
    data = parse_text(text).docs[0].data
    assert data == yaml.load(text, Loader=yaml.CSafeLoader)
    assert data["b"] is data["a"] is data["c"][0]  # shared, as SafeConstructor shares them
    with pytest.raises(KhardenError, match="recursive alias"):  # the reader's limits apply to every use of it
        yaml.load("r: &r [*r]\n", Loader=Loader)


STREAM = ("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\n# web\napiVersion: v1\nkind: Pod\nmetadata:\n"
          "  name: web\nspec:\n  containers:\n  - name: c\n    image: nginx\n---\napiVersion: v1\nkind: ConfigMap\n"
          "metadata: {name: m}\ndata:\n  x: |\n    keep\n")


def _bad_edits(monkeypatch: pytest.MonkeyPatch, extra: Any) -> None:
    """Make the splicer add one more edit, computed from the document's text."""
    from kharden.render import splice

    real = splice._DocSplicer.edits

    def edits(self: Any) -> list[Any]:
        return real(self) + [extra(self.text)]

    monkeypatch.setattr(splice._DocSplicer, "edits", edits)


@pytest.mark.parametrize("extra", [
    lambda t: (t.index("nginx"), t.index("nginx") + 5, "[nginx"),  # breaks the changed document's syntax
    lambda t: (t.index("nginx"), t.index("nginx") + 5, "apache"),  # a wrong value in the changed document
    lambda t: (t.index("name: a"), t.index("name: a") + 7, "name: b"),  # a wrong value in an unchanged one
    lambda t: (t.index("keep"), t.index("keep"), "---\n"),  # a new document
], ids=["syntax", "value", "other-document", "new-document"])
def test_verifying_only_changed_documents_still_catches_bad_edits(monkeypatch: pytest.MonkeyPatch, extra: Any) -> None:
    from kharden.render.fastverify import render_verified

    source = parse_text(STREAM, "s.yaml")
    outcome = run.fix_sources([source], PROFILE, generate=False)
    assert outcome.outputs  # the Pod changes
    _bad_edits(monkeypatch, extra)
    source = parse_text(STREAM, "s.yaml")
    result = run_pipeline(Request([source], run.resolve_profile(PROFILE), generate=False, splice=False))
    with pytest.raises(KhardenError):  # as splice.verify raises it: "does not read back", or the YAML error
        render_verified(source, result.changes)


TWO_PODS = ("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - name: c\n    image: nginx\n---\n"
            "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers:\n  - name: c\n    image: redis\n")
# the same in block style only: the read back goes through kharden.read.subset, not libyaml
TWO_BLOCK_PODS = TWO_PODS.replace("{name: a}", "\n  name: a").replace("{name: b}", "\n  name: b")


@pytest.mark.parametrize("extra, reads_back", [
    (lambda t: (0, 0, ""), True),  # no harm done
    (lambda t: (t.index("nginx"), t.index("nginx") + 5, "[nginx"), False),  # unclosed: would swallow the next pod
    (lambda t: (t.index("nginx"), t.index("nginx") + 5, "apache"), False),  # a wrong value
    (lambda t: (t.index("spec:"), t.index("spec:"), "---\n"), False),  # one changed document read as two
    (lambda t: (t.index("image"), t.index("image"), "# "), False),  # a key lost to a comment
], ids=["none", "syntax", "value", "split", "comment"])
@pytest.mark.parametrize("text", [TWO_PODS, TWO_BLOCK_PODS], ids=["libyaml", "subset"])
def test_the_one_pass_read_back_itself_catches_bad_edits(
    monkeypatch: pytest.MonkeyPatch, extra: Any, reads_back: bool, text: str
) -> None:
    """Not just splice.verify behind it: the check of the changed documents, read in one pass, says no; whether
    libyaml reads the output (flow-style metadata) or kharden.read.subset does (block style only)."""
    from kharden.read import subset
    from kharden.render import fastverify, splice

    read_by_subset = []
    real_read = subset.read_stream
    monkeypatch.setattr(subset, "read_stream", lambda t: read_by_subset.append(real_read(t) is not None) or real_read(t))
    real = splice._DocSplicer.edits
    monkeypatch.setattr(splice._DocSplicer, "edits", lambda self: real(self) + [extra(self.text)] * (self.doc.index == 0))
    source = parse_text(text, "s.yaml")
    changes = run_pipeline(Request([source], run.resolve_profile(PROFILE), generate=False, splice=False)).changes
    by_doc = splice.doc_edits(source, changes)
    assert sorted(by_doc) == [0, 1]  # both pods change
    edits = splice._relocate_insertions(source.text, [e for d in by_doc.values() for e in d])
    assert fastverify._changed_docs_read_back(source, [0, 1], edits) is reads_back
    if reads_back:
        assert read_by_subset == [text == TWO_BLOCK_PODS] * 2


def test_one_pass_reads_each_chunk_as_alone() -> None:
    from kharden.render.fastverify import _read_each

    keep = "a: |+\n  x\n\n"  # a block scalar that keeps its trailing blank lines: the `---` after it ends it
    assert _read_each(["a: 1\n", "--- {b: 2}\n", keep, "- 3\n", "x"]) == [{"a": 1}, {"b": 2}, {"a": "x\n\n"}, [3], "x"]
    assert _read_each(["a: [1\n", "b: 2\n"]) is None  # one chunk cannot end the other's syntax
    assert _read_each(["a: 1\n---\nb: 2\n", "c: 3\n"]) is None  # two documents in one chunk
    assert _read_each(["# a comment only\n", "c: 3\n"]) is None  # no document
    assert _read_each(["a: 1", "b: 2\n"]) is None  # a chunk but the last must end its line
    assert _read_each(["a: !!python/name:os.system x\n"]) is None  # what SafeConstructor cannot build


def test_one_pass_equals_the_reader_on_every_corpus_document(corpus: Path) -> None:
    """Every document of every corpus file the reader reads, read back in one pass per file: the reader's values."""
    from kharden.render.fastverify import _read_each, _span

    for path in FILES:
        try:
            source = parse_text(path.read_text(encoding="utf-8"), str(path))
        except KhardenError:
            continue
        spans = [_span(d, source.text) for d in source.docs]
        chunks = [source.text[s[0]:s[1]] for s in spans if s is not None]
        values = _read_each(chunks)
        alone = [parse_text(c).docs for c in chunks]
        assert values == ([d[0].data for d in alone] if all(len(d) == 1 for d in alone) else None), path


def test_what_the_reader_refuses_does_not_read_back_in_one_pass() -> None:
    """The one pass builds values with the reader's limits: what the reader refuses, it does not accept."""
    from kharden.read import limits
    from kharden.render.fastverify import _read_each

    assert _read_each(["a: &x [1]\nb: *x\n"]) == [{"a": [1], "b": [1]}]  # aliases are legal YAML
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{n}: &{n} [{', '.join(['*' + p] * 10)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    assert _read_each([laughs]) is None  # a billion laughs
    assert _read_each(["a: &a [*a]\n"]) is None  # a cycle
    assert _read_each(["a: " + "x" * (limits.MAX_SCALAR_CHARS + 1) + "\n"]) is None
    assert _read_each(["a: " + "[" * limits.MAX_DEPTH + "]" * limits.MAX_DEPTH + "\n"]) is None
    assert _read_each(["a: " + "[" * (limits.MAX_DEPTH - 1) + "]" * (limits.MAX_DEPTH - 1) + "\n"]) is not None


def test_a_change_nesting_past_the_readers_limit_is_refused_with_the_readers_error() -> None:
    from kharden.model import ObjectRef
    from kharden.read import limits
    from kharden.render.fastverify import render_verified

    depth = limits.MAX_DEPTH - 2
    text = "kind: ConfigMap\nmetadata: {name: c}\ndata:\n" + "".join("  " * i + "k:\n" for i in range(1, depth - 1))
    text += "  " * (depth - 1) + "leaf: 1\n"
    path = ("data",) + ("k",) * (depth - 2) + ("x",)
    for new, refused in (({"a": [1]}, False), ({"a": [[1]]}, True)):  # the inner list one level past the limit
        source = parse_text(text, "d.yaml")
        parent = source.docs[0].data
        for key in path[:-1]:
            parent = parent[key]
        parent["x"] = new
        change = Change(ObjectRef("d.yaml", 0, None, "v1", "ConfigMap", "c", None), "add", path, None, new, "m", "r")
        if refused:
            with pytest.raises(KhardenError, match="nesting deeper than 200 levels"):
                render_verified(source, [change])
        else:
            assert parse_text(render_verified(source, [change])).docs[0].data == source.docs[0].data


SAFE_DUMP: dict[str, Any] = dict(sort_keys=False, default_flow_style=False, width=1 << 16)


def _faithful(path: Path, text: str) -> run.FixOutcome | None:
    try:
        return run.fix_sources([parse_text(text, str(path))], PROFILE)
    except KhardenError:
        return None  # kharden refuses this file: nothing to compare


def _generated_objects() -> list[Any]:
    """Every object the restricted profile's generators make from each corpus file and each sample."""
    paths = FILES + sorted(p for p in (Path(__file__).parents[1] / "samples").iterdir() if p.suffix in (".yaml", ".json"))
    objects = []
    for path in paths:
        outcome = _faithful(path, path.read_text(encoding="utf-8"))
        objects += outcome.result.generated if outcome else []
    return objects


def test_generated_objects_are_dumped_as_pyyaml_dumps_them(corpus: Path) -> None:
    """fastdump.safe_dump (block_text, else libyaml's emitter where it writes the same bytes) against yaml.safe_dump,
    on all of them."""
    objects = _generated_objects()
    plain = [o for o in objects if fastdump._plain(o)]
    assert len(objects) > 1000 and len(plain) == len(objects)  # all of them take the C path: the proof is not empty
    for obj in objects:
        want = yaml.safe_dump(obj, **SAFE_DUMP)
        assert yaml.dump(obj, Dumper=Dumper, **SAFE_DUMP) == want, obj
        assert fastdump.safe_dump(obj) == want, obj
        assert fastdump.block_text(obj) in (want, None), obj
    written = [o for o in objects if fastdump.block_text(o) is not None]
    assert len(written) > 0.95 * len(objects)  # all but multi-line strings (NetworkPolicies' reasons): not empty
    assert fastdump.safe_dump_each(objects) == [yaml.safe_dump(o, **SAFE_DUMP) for o in objects]


def test_dumping_many_at_once_gives_each_ones_own_text() -> None:
    """safe_dump_each: one emitter for all, the texts of one safe_dump each: anchors restart in every document, and
    a list with anything but plain values is dumped one by one."""
    shared = {"app": "web"}
    objs: list[Any] = [{"a": shared, "b": shared}, {"c": shared}, {"d": [1, "yes", None]}, {"e": "x\ny"}]
    want = [yaml.safe_dump(o, **SAFE_DUMP) for o in objs]
    assert "&id001" in want[0] and "&" not in want[1]
    assert fastdump.safe_dump_each(objs) == want
    mixed = objs + [{"f": 1.5}]
    assert not fastdump._plain(mixed[-1])
    assert fastdump.safe_dump_each(mixed) == [yaml.safe_dump(o, **SAFE_DUMP) for o in mixed]
    assert fastdump.safe_dump_each([]) == []


@pytest.mark.parametrize("obj", [
    {"": 1}, {"a\rb": 1}, {"k" * 125: 1}, {"k": "é " * 40_000}, {"k": "\ud800"}, {"k": 1.5}, {1: "a"},
], ids=["empty-key", "cr-in-key", "long-key", "long-non-ascii", "surrogate", "float", "int-key"])
def test_what_libyaml_would_write_otherwise_goes_to_pyyaml(obj: dict[Any, Any]) -> None:
    assert not fastdump._plain(obj)
    assert fastdump.safe_dump(obj) == yaml.safe_dump(obj, **SAFE_DUMP)


_TEXT = st.text(st.sampled_from([chr(c) for c in range(0x20, 0x7F)] + ["\n", " ", "'", ":", "#", "-"]), max_size=12)
_WORDS = st.sampled_from(["yes", "No", "null", "~", "0644", "1e3", "0x1F", "-", "---", "...", "- a", "a: b", "a #b",
                          "=", "<<", "12:30", "2001-12-14", ".inf", "+1", "'", '"', "!x", "&a", "*a", "|", "> x",
                          " lead", "trail ", "a\n", "\nb", "a\n\nb", "a \n b"])
_STRINGS = _TEXT | _WORDS
_KEYS = _STRINGS.filter(lambda s: fastdump._KEY.match(s) is not None)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _STRINGS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(_KEYS, _VALUES, min_size=1, max_size=5))
def test_libyaml_writes_what_pyyaml_writes_for_every_plain_object(obj: dict[str, Any]) -> None:
    assert fastdump._plain(obj)
    assert yaml.dump(obj, Dumper=Dumper, **SAFE_DUMP) == yaml.safe_dump(obj, **SAFE_DUMP)
    assert fastdump.safe_dump_each([obj, obj]) == [yaml.safe_dump(obj, **SAFE_DUMP)] * 2


_NAMES = st.text(st.sampled_from(list("abcXYZ019_./()+=@- ")), min_size=1, max_size=10)  # mostly plain words
_BLOCK_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | _STRINGS | _NAMES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS | _NAMES, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(_KEYS | _NAMES, _BLOCK_VALUES, min_size=1, max_size=5))
def test_block_text_writes_what_pyyaml_writes_or_nothing(obj: dict[str, Any]) -> None:
    """fastdump.block_text, which writes generated objects without libyaml, gives yaml.safe_dump's bytes or None."""
    text = fastdump.block_text(obj)
    if text is not None:
        assert text == yaml.safe_dump(obj, **SAFE_DUMP)
    assert fastdump.safe_dump(obj) == yaml.safe_dump(obj, **SAFE_DUMP)


def test_block_text_writes_most_objects_and_none_it_cannot_be_sure_of() -> None:
    shared: dict[str, Any] = {"app": "web"}
    for obj in ({"a": shared, "b": shared}, {"a": [], "b": {}, "c": [[]]}, {"e": "x\ny"}, {"f": 1.5}, {1: "a"}, {}):
        text = fastdump.block_text(obj)
        assert text is None or text == yaml.safe_dump(obj, **SAFE_DUMP), obj
    assert fastdump.block_text({"a": shared, "b": shared}) is None  # SafeDumper anchors what appears twice
    assert fastdump.block_text({"e": "x\ny"}) is None  # not on one line
    assert fastdump.block_text({"a": [], "b": {}, "c": [[]], "d": [{"k": ["yes", -1, None, ": x"]}]}) == (
        "a: []\nb: {}\nc:\n- []\nd:\n- k:\n  - 'yes'\n  - -1\n  - null\n  - ': x'\n")


def test_a_run_frees_its_sources_without_the_cyclic_collector() -> None:
    """kharden keeps the cyclic collector off the parsed heap (gcpause): a reference cycle through the sources
    (a document pointing back at its Source, say) would keep every run's files in memory until a full collection,
    which the frozen heap seldom triggers (a loop of fix calls grew by 0.5 MB per call)."""
    import gc
    import weakref

    samples = sorted(str(p) for p in (Path(__file__).parents[1] / "samples").glob("*.yaml"))
    assert len(samples) > 1
    was_on = gc.isenabled()
    gc.disable()
    try:
        outcome = run.fix(samples, PROFILE)
        outcome.stream(), outcome.diff(), outcome.jsonpatch(), outcome.summary
        refs = [weakref.ref(s) for s in outcome.result.sources] + [weakref.ref(d) for s in outcome.result.sources
                                                                  for d in s.docs]
        del outcome
        assert [r for r in refs if r() is not None] == []
    finally:
        if was_on:
            gc.enable()


def test_a_run_freezes_what_lives_on_and_still_collects_garbage_cycles() -> None:
    """gcpause.for_run: what young collections find alive is frozen (not walked again), full collections wait for
    the run's end, garbage cycles made during the run are still freed, and the collector is as it was afterwards."""
    import gc
    import weakref

    from kharden import gcpause

    class Cycle:
        pass

    was_on, before = gc.isenabled(), gc.get_threshold()
    gc.enable()
    fulls: list[int] = []

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start" and info["generation"] == 2:
            fulls.append(1)

    gc.callbacks.append(count)
    try:
        with gcpause.for_run():
            keep = [[i] for i in range(300_000)]  # survivors: many young and middle collections find them alive
            assert gc.get_freeze_count() >= len(keep) // 2 and fulls == []
            dead = []
            for _ in range(5_000):  # garbage cycles: the young collections free them
                c = Cycle()
                c.me = c  # type: ignore[attr-defined]
                dead.append(weakref.ref(c))
                del c
            assert sum(r() is not None for r in dead) < 1_000  # all but the newest few were freed
        assert gc.get_freeze_count() == 0 and gc.get_threshold() == before and fulls == []
        assert gcpause._freeze_what_lives_on not in gc.callbacks
        del keep
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before)
        if not was_on:
            gc.disable()


def test_the_cli_tunes_the_collector_for_a_command_and_restores_it(tmp_path: Path) -> None:
    import gc

    from click.testing import CliRunner

    from kharden.cli import cli

    before = gc.get_threshold()
    f = tmp_path / "d.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: x\n")
    assert CliRunner().invoke(cli, ["fix", str(f)]).exit_code == 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0 and gc.isenabled()


def test_cached_property_computes_once_and_works_on_frozen_dataclasses():
    from dataclasses import dataclass

    from kharden.model import cached_property

    calls = []

    @dataclass(frozen=True)
    class Box:
        items: tuple[int, ...]

        @cached_property
        def total(self) -> int:
            """The sum."""
            calls.append(1)
            return sum(self.items)

    box = Box((1, 2, 3))
    assert box.total == 6 and box.total == 6 and len(calls) == 1
    assert Box((4,)).total == 4 and len(calls) == 2  # each instance its own
    assert Box.total.__doc__ == "The sum."
