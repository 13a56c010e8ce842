"""kharden.read.subset answers exactly as libyaml does, or not at all.

Its whole claim: where `read_stream(text)` returns values, `yaml.load_all(text, Loader=CSafeLoader)` reads the
same text without error and builds the same values, type for type and key order for key order. Checked here on
every file of the third-party corpus and on kharden's output for each, on hand-picked edge cases, on texts that
hypothesis writes from a grammar of what manifests contain (and of what trips readers up), and on corpus files
with lines damaged. A longer run: KHARDEN_HYPOTHESIS_EXAMPLES=20000 python -m pytest tests/test_subset.py
"""

from __future__ import annotations

import datetime
import os
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from kharden.read import subset
from tests.conftest import corpus_files
from tests.damage import Edit, corpus_texts, damage

EXAMPLES = int(os.environ.get("KHARDEN_HYPOTHESIS_EXAMPLES", "100")) * 10  # cheap: no fix, just two reads
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="KHARDEN_HYPOTHESIS_EXAMPLES" not in os.environ,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (True is not 1, 1.0 is not 1), keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(k, l) and same(v, w) for (k, v), (l, w) in zip(a.items(), b.items()))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(v, w) for v, w in zip(a, b))
    if isinstance(a, float) and a != a:
        return b != b  # NaN
    if isinstance(a, datetime.datetime):
        return a == b and a.tzinfo == b.tzinfo
    return bool(a == b)


def agrees(text: str) -> bool:
    """True when subset reads `text` (and then libyaml reads the same), False when it declines."""
    got = subset.read_stream(text)
    if got is None:
        return False
    want = list(yaml.load_all(text, Loader=yaml.CSafeLoader))  # raises if subset accepted what libyaml refuses
    assert same(got, want), f"subset read {got!r}, libyaml {want!r}"
    return True


# -- hand-picked cases: (text, whether subset reads it) -------------------------------------------------------------
READ = [
    "a: 1\n", "a: 1\n---\n", "---\n---\n", "# only a comment\n", "", "---", "--- # c\na: b\n", "a: 1\r\nb: [x]\r\n",
    "a: [a, ]", "a: [a,b]", "a: [ ]", "a: { }", "a: [a b, 'c''d', \"e\\tf\"]  # c", "a: [1, yes, 0644, '0644']",
    "a: x#c", "a: ---", "key:    \n  b: 1", "a: \xa0", "a: x \xa0", "a: -1", "a: :x", "a: ?x",
    "- |\n  x\n- y", "a:\n- |\n x", "a: >\n  a\n  b\n\n  c\n   d\n  e\n", "a: |2-\n    x\n", "a: |-2\n    x\n",
    "a: |+\n  x\n\n", "a: |+\n  x\n   ", "a: >-\n  one\n  two\n", "a: |\n  x\n  # not a comment\n# a comment\nb: 1",
    'a: "\\x80 \\u00e9 \\U0001F600 \\N \\_"', "a: 'it''s'", "a: b\n  - c", "- a\n  - b", "a: b\n\n  c\n\n\n  d",
    "a: b  \n   c  \n", "- a: b\n   c", "a: b\n  c #d", "a: b\n  c#d", "a: 1\n  2", "a: b\n ---\n", "k:\n  text here",
    "k:\n  text\n  more", "a: 'one\n  two\n\n  three'", 'a: "one\n  two"', "yes: no\n2: off\n~: null\n",
    "t: 2001-12-14\nu: 2001-12-14t21:59:43.10-05:00", "a: .nan\nb: .inf\nc: 0x1F\nd: 1_000\ne: 1:20\nf: 0b101",
    "containers:\n- name: a\n  ports:\n  - containerPort: 80\n  image: x\n", "-\n  name: a\n-\n- b\n",
    "a: b\n  - &x\n  c",  # a line that alone would be declined, read as the rest of a plain scalar
]
UNSURE = [
    "a: &x 1\nb: *x", "a: !!str 1", "%YAML 1.1\n---\na: 1", "a: 1\n...\n", "? a\n: b", "<<: {a: 1}", "a: =",
    "a: {b: 1}", "a: [[1]]", "a: [1,\n  2]", "a: 'x\nb: 1", "a: \"x\\\n  y\"", "a:\tb", "a: b\n\tc: d", "\ufeffa: 1",
    "a: 1\nb: 2\na: 3", "on: 1\nyes: 2\n", "  a: 1", "a", "- - a", "a: |\nb: 1", "a: |\n\n   \n  x", "a: b\n  # c\n  d", "a: b #c\n  d",
    "a: b\n  c: d", "a: 1\rb: 2", "a: \x85", "a: b\u2028c", "a: \x07", "a: x:", "a: x: y", "- a: b\n  c",
]


@pytest.mark.parametrize("text", READ)
def test_reads_as_libyaml(text: str) -> None:
    assert agrees(text), "subset declined a text it should read"


@pytest.mark.parametrize("text", UNSURE)
def test_declines_what_it_does_not_know(text: str) -> None:
    assert subset.read_stream(text) is None


@SETTINGS
@given(st.text(alphabet=st.characters(max_codepoint=0x200), max_size=40) | st.text(max_size=20))
def test_the_ascii_check_for_odd_characters_is_the_pattern(text: str) -> None:
    """For ASCII text a translation table stands in for the _ODD pattern: it must find the same."""
    assert subset.has_odd(text) == (subset._ODD.search(text) is not None)


def test_lines_are_remembered_within_bounds() -> None:
    """What each line says is remembered by its text, for short lines only and up to a limit."""
    subset._RECORDS.clear()
    long = "a: " + "x" * subset.CACHED_CHARS
    assert subset.read_stream(f"{long}\nb: 1\n") == [{"a": long[3:], "b": 1}]
    assert "b: 1" in subset._RECORDS and long not in subset._RECORDS
    many = "".join(f"k{i}: v\n" for i in range(subset.CACHE_LIMIT + 10))
    assert subset.read_stream(many) is not None
    assert len(subset._RECORDS) <= subset.CACHE_LIMIT


def test_cached_values_are_not_shared() -> None:
    """Values are remembered by their text: a list or `{}` read twice must still be two objects."""
    docs = subset.read_stream("a: [x]\nb: [x]\nc: {}\nd: {}\n")
    assert docs is not None
    (doc,) = docs
    assert doc["a"] == doc["b"] and doc["a"] is not doc["b"] and doc["c"] is not doc["d"]


# -- the corpus, and kharden's output for it ------------------------------------------------------------------------
def test_corpus_and_its_fixed_output(corpus: Any) -> None:
    """Every corpus file, and kharden's output for each: read exactly as libyaml reads it, or declined; and most
    are read (the part of YAML subset knows is the part manifests are written in)."""
    from kharden.errors import KhardenError
    from kharden.run import fix_sources
    from kharden.read import parse_text

    read = total = 0
    for path in corpus_files():
        text = path.read_text(encoding="utf-8").lstrip("\ufeff")
        texts = [text]
        try:
            outcome = fix_sources([parse_text(text, str(path))], "restricted")
            texts += [outcome.text_of(s).lstrip("\ufeff") for s in outcome.result.sources]
        except KhardenError:
            pass
        for t in texts:
            total += 1
            read += agrees(t)
    assert read >= 0.9 * total, f"subset read only {read} of {total} texts"


# -- texts from a grammar of manifests ------------------------------------------------------------------------------
KEYS = ["name", "image", "app.kubernetes.io/name", "a b", "a#b", "yes", "1", "0644", "~", "2001-12-14", '"quoted"',
        "'single'", '"a:b"', "k ", "ключ", "a'b", '"yes"', "ports", "env", "value"]
ODD_KEYS = ["x:y", "on", "null", "<<", "=", "-x", "?x", "&a k", "!t k", '"a\\tb"', "'it''s'", "k\tk"]
SCALARS = ["web", "nginx:1.27", "a b  c", "/tmp", "100m", "64Mi", "v1.2", "x-y_z", "http://e.com/a#b", "yes", "No",
           "on", "y", "n", "true", "False", "~", "null", "0644", "0x1F", "1_000", "1:20", "190:20:30", ".inf", "-.inf",
           ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1e3", "+12", "1.10", "-0", "0b101", "-1", ":x",
           "x#c", "'q'", "'it''s'", "'a: b'", '"q"', '"a\\tb"', '"\\x41\\u00e9"', "'x' #c", "[]", "{}", "[ ]",
           "[a, 'b', \"c\"]", "[a, ]", "\xa0", "é", "\u3000", "x "]
ODD_SCALARS = ["-", "?", "a: b", "a:", "x #c", "#c", '"\\q"', '"\\ud800"', '"x"#c', "[a,[b]]", "{a: b}", "[a: b]",
               "&a x", "*a", "!!str x", "!t x", "%x", "@x", "`x", "|x", ">x", '"unclosed', "'unclosed", "'a'b", "<<",
               "=", "- x", "x\ty", "[a, b", "]"]
HEADERS = ["|", ">", "|-", ">+", "|2", ">1-", "|+2", "| # c", ">-  ", "|0", "|x", "|  #c"]
LINES = ["one", "two words", "", "  ", "    more", "# not a comment", "- item", "key: value", "'q", "   ", "end  "]
GAPS = ["", "", "", "#c", "  # c", "   ", "      # deep"]


def pick(draw: Any, common: list[str], odd: list[str], odds: bool) -> str:
    """Mostly what manifests hold; with `odds`, now and then what trips a reader up."""
    return draw(st.sampled_from(odd if odds and draw(st.integers(0, 9)) == 0 else common))


@st.composite
def block(draw: Any, col: int, depth: int, odds: bool) -> list[str]:
    """Lines of a block mapping or sequence whose keys or dashes stand at `col`."""
    out: list[str] = []
    seq = draw(st.booleans())
    for _ in range(draw(st.integers(1, 3))):
        out += [g for g in [draw(st.sampled_from(GAPS))] if g or draw(st.booleans())]
        head = " " * col + (draw(st.sampled_from(["- ", "-  ", "- "])) if seq else "")
        if seq and draw(st.booleans()):  # a plain item, or a compact mapping
            out += _entry(draw, head, "", col, depth, odds)
        else:
            key = pick(draw, KEYS, ODD_KEYS, odds) + draw(st.sampled_from([":", " :", ":", ":", ":", ":"]))
            if seq and head.endswith("-"):
                head += " "
            out += _entry(draw, head, key, len(head) if seq else col, depth, odds)
    return out


def _entry(draw: Any, head: str, key: str, col: int, depth: int, odds: bool) -> list[str]:
    kind = draw(st.sampled_from(["scalar"] * 4 + ["nested"] * 3 + ["block", "folded-lines", "quoted-lines"]))
    sep = draw(st.sampled_from([" ", "  ", " ", " ", " ", ""])) if key else ""
    if kind == "nested" and depth < 3:
        step = draw(st.sampled_from([0, 1, 2, 2, 2, 4]))
        tail = draw(st.sampled_from(["", "", "  # c", " "]))
        if not key:  # a sequence item on the lines below its dash
            head = head.rstrip(" ") + tail
            return [head] + draw(block(col + max(step, 1), depth + 1, odds))
        return [head + key + tail] + draw(block(col + step, depth + 1, odds))
    if kind == "block":
        step = draw(st.sampled_from([1, 2, 2, 2, 3]))
        body = [(" " * (col + step) + line) if line.strip() else line for line in draw(st.lists(st.sampled_from(LINES),
                                                                                           min_size=0, max_size=4))]
        return [head + key + sep + draw(st.sampled_from(HEADERS))] + body
    value = pick(draw, SCALARS, ODD_SCALARS, odds)
    if kind == "folded-lines":
        more = [" " * (col + draw(st.integers(0, 3))) + pick(draw, SCALARS + [""], ODD_SCALARS, odds)
                for _ in range(draw(st.integers(1, 2)))]
        return [head + key + sep + value] + more
    if kind == "quoted-lines":
        q = draw(st.sampled_from(["'", '"']))
        middle = [" " * (col + draw(st.integers(0, 3))) + draw(st.sampled_from(["x", "", "it''s", "a: b", "#c"]))]
        return [head + key + sep + q + "open"] + middle + [" " * (col + 2) + "close" + q + draw(st.sampled_from(["", " #c"]))]
    return [head + key + sep + value + draw(st.sampled_from(["", "", "", "", "  # c", "#c", " "]))]


@st.composite
def stream(draw: Any, odds: bool = True) -> str:
    docs = []
    for _ in range(draw(st.integers(1, 2))):
        docs.append("\n".join(draw(block(0, 0, odds))))
    sep = draw(st.sampled_from(["\n---\n", "\n--- # c\n", "\n---\n\n"]))
    head = draw(st.sampled_from(["", "", "---\n", "# c\n---\n"]))
    return head + sep.join(docs) + draw(st.sampled_from(["", "\n", "\n\n"]))


@SETTINGS
@given(stream())
def test_generated_texts(text: str) -> None:
    note(text)
    event("read" if agrees(text) else "declined")


@SETTINGS
@given(stream(odds=False))
def test_generated_texts_of_common_tokens(text: str) -> None:
    """The same grammar with none of the odd tokens: more texts that subset reads, so more of its answers checked."""
    note(text)
    event("read" if agrees(text) else "declined")


# -- corpus files with lines damaged ------------------------------------------------------------------------------
CORPUS_TEXTS = [t.lstrip("\ufeff") for t in corpus_texts()]
TOKENS = ["", " ", "  ", "-", "- ", ": ", ":", '"', "'", "''", "|", ">", "|-", "{", "}", "[", "]", ",", "&a ", "*a",
          "!!str ", "#", " #", "? ", "---", "...", "%", "null", "~", "yes", "0644", "\\", "\\n", "\r", "\xa0"]


@SETTINGS
@given(st.sampled_from(range(len(CORPUS_TEXTS)) or [0]),
       st.lists(st.tuples(st.sampled_from(["delete", "repeat", "insert", "indent", "dedent", "value", "join"]),
                          st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(TOKENS)), min_size=1, max_size=4))
def test_damaged_corpus_texts(index: int, edits: list[Edit]) -> None:
    if not CORPUS_TEXTS:
        pytest.skip("corpus not present")
    text = damage(CORPUS_TEXTS[index], edits)
    note(text)
    try:
        read = agrees(text)
    except yaml.YAMLError:
        raise AssertionError("subset read a text that libyaml refuses") from None
    event("read" if read else "declined")
