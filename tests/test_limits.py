"""Resource bombs end in a clear InputError within seconds, with memory bounded; ordinary aliases keep working."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kharden.errors import InputError
from kharden.read import limits
from kharden.read.source import parse_text, read_text_file
from tests.conftest import CORPUS


def laughs(levels: int, width: int = 10) -> str:
    """The classic "billion laughs": each level an anchored list of `width` aliases of the level below."""
    lines = ["kind: ConfigMap", "l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    lines.append(f"data: {{x: *l{levels - 1}}}")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_fast() -> None:
    start = time.monotonic()
    with pytest.raises(InputError, match="aliases expand to more than 1,000,000 nodes"):
        parse_text(laughs(9), "bomb.yaml")  # 10**9 leaves
    assert time.monotonic() - start < 2


def test_wide_fan_of_one_alias_is_refused() -> None:
    text = "a: &a [" + ", ".join(["x"] * 1000) + "]\nb: [" + ", ".join(["*a"] * 2000) + "]\n"
    with pytest.raises(InputError, match="alias bomb"):
        parse_text(text)


def test_ordinary_aliases_keep_working() -> None:
    text = textwrap.dedent("""\
        defaults: &defaults {cpu: 100m, memory: 64Mi}
        a: {requests: *defaults, limits: *defaults}
        b: {<<: *defaults, cpu: 1}
        """)
    data = parse_text(text).docs[0].data
    assert data["a"]["limits"] == {"cpu": "100m", "memory": "64Mi"} and data["b"]["cpu"] == 1
    parse_text(laughs(4))  # 10**4 leaves: aliases are legal YAML, only bombs are refused


def test_recursive_alias_is_refused() -> None:
    for text in ("a: &a [*a]\n", "a: &a {b: *a}\n", "a: &a\n  b:\n    c: *a\n"):
        with pytest.raises(InputError, match="recursive alias") as info:
            parse_text(text, "r.yaml")
        assert info.value.line == 1


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, "{a: " * 50_000 + "1" + "}" * 50_000, "- " * 100_000 + "x\n",
     "".join(" " * n + "a:\n" for n in range(0, 1000))],
    ids=["flow-seq", "flow-map", "block-seq", "block-map"],
)
def test_deep_nesting_is_refused_without_crashing(text: str) -> None:
    """libyaml's composer recurses in C and kills the process past ~10**4 levels: so check in a child process."""
    program = "import sys\nfrom kharden.read.source import parse_text\nparse_text(sys.stdin.read(), 'deep.yaml')\n"
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-c", program], input=text, capture_output=True, text=True, timeout=60,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert time.monotonic() - start < 20
    assert run.returncode == 1, run.stderr[-500:]  # an InputError traceback; not a segfault (-11)
    assert f"nesting deeper than {limits.MAX_DEPTH} levels" in run.stderr.splitlines()[-1]


def test_depth_limit_is_exact() -> None:
    ok = "[" * limits.MAX_DEPTH + "]" * limits.MAX_DEPTH
    parse_text(ok)
    with pytest.raises(InputError) as info:
        parse_text("a: 1\n---\n" + "[" * (limits.MAX_DEPTH + 1) + "]" * (limits.MAX_DEPTH + 1), "d.yaml")
    assert (info.value.doc, info.value.line, info.value.column) == (1, 3, limits.MAX_DEPTH + 1)


def test_depth_bound_is_an_upper_bound() -> None:
    """The cheap bound that lets ordinary files skip the exact scan must never be below the real depth."""
    samples = ["a:\n- - - b: {c: [d]}\n", "- a:\n  - b:\n    - c: 1\n", "a:\n b:\n  c:\n   d: 1\n", "x"]
    for text in samples:
        real, depth = 0, 0
        import yaml

        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                real = max(real, depth)
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        assert limits.depth_bound(text) >= real


@settings(max_examples=500, deadline=None)
@given(st.lists(st.integers(0, 60), max_size=40), st.text("[{ab\r\x85", max_size=30), st.integers(0, 120))
def test_depth_within_is_the_bound_compared(lengths: list[int], extra: str, limit: int) -> None:
    """depth_within(text, limit) is exactly depth_bound(text) <= limit, whatever the lines and line breaks."""
    text = "\n".join("x" * n for n in lengths) + extra
    assert limits.depth_within(text, limit) == (limits.depth_bound(text) <= limit)


def test_huge_scalar_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "kind: ConfigMap\ndata:\n  big: " + "x" * (limits.MAX_SCALAR_CHARS + 1) + "\n"
    with pytest.raises(InputError, match="value longer than 2 MiB") as info:
        parse_text(text, "big.yaml")
    assert (info.value.line, info.value.column) == (3, 8)


def test_huge_file_is_refused_before_reading(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.path.join(str(tmp_path), "huge.yaml")
    with open(path, "wb") as f:
        f.truncate(limits.MAX_FILE_BYTES + 1)  # sparse: costs no disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match=f"file too large: more than {limits.MAX_FILE_BYTES // (1024 * 1024)} MiB"):
        read_text_file(path)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 8 * 1024  # KiB: it was not read


def test_huge_stdin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", 1000)

    class Stdin:
        class buffer:  # noqa: N801 - mimics sys.stdin.buffer
            @staticmethod
            def read(n: int = -1) -> bytes:
                assert n == 1001, "stdin must be read with a bound"
                return b"a: 1\n" * 300

    monkeypatch.setattr(sys, "stdin", Stdin)
    with pytest.raises(InputError, match="file too large") as info:
        read_text_file("-")
    assert info.value.file == "-"


def test_limits_accept_the_largest_corpus_file() -> None:
    path = str(CORPUS / "apps" / "argo-cd" / "manifests" / "install.yaml")
    if not os.path.exists(path):
        pytest.skip("corpus not present")
    start = time.monotonic()
    source = parse_text(read_text_file(path), path)
    assert len(source.docs) > 10 and time.monotonic() - start < 10


def test_depth_counts_through_aliases() -> None:
    """An anchored subtree within the limit where it is written may exceed it where an alias repeats it deeper."""
    chain = "[" * (limits.MAX_DEPTH - 1) + "x" + "]" * (limits.MAX_DEPTH - 1)
    parse_text("a: &a " + chain + "\nb: *a\n")  # root + chain = MAX_DEPTH at both places
    with pytest.raises(InputError, match="nesting deeper than"):
        parse_text("a: &a " + chain + "\nb: [*a]\n")
    with pytest.raises(InputError, match="nesting deeper than"):
        parse_text("b: [*a]\n".join(["a: &a " + chain + "\n", ""]).replace("b: [*a]\n", "") + "c: {d: *a}\n")


def test_the_reader_refuses_deep_nesting_without_crashing() -> None:
    program = "import sys\nfrom kharden.read import parse_text\nparse_text(sys.stdin.read(), 'deep.yaml')\n"
    run = subprocess.run([sys.executable, "-c", program], input="[" * 100_000 + "]" * 100_000, capture_output=True,
                         text=True, timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert run.returncode == 1 and "nesting deeper than" in run.stderr.splitlines()[-1], run.returncode


# The reader skips the scalar-size check in texts no longer than the limit (kharden.read.fastload.StreamFacts):
# sound only because a scalar's value is never longer than the text it is written in.
_ESCAPES = ["\\x41", "\\u00e9", "\\U0001F600", "\\n", "\\t", "\\\\", '\\"', "\\ ", "\\N", "\\_", "\\L", "\\P", "\\0"]


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from([None, "'", '"', "|", ">"]),
)
def test_a_scalar_is_never_longer_than_its_text(value: str, style: str | None) -> None:
    import yaml

    text = yaml.safe_dump(value, default_style=style, allow_unicode=True, width=8)
    assert len(yaml.safe_load(text)) <= len(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ESCAPES + ["a", " ", "\n", "\n\n"]), max_size=30),
       st.sampled_from(["|+", ">+", "|-", "|2", '"']))
def test_escapes_folding_and_kept_breaks_only_shrink_a_scalar(parts: list[str], style: str) -> None:
    import yaml

    body = "".join(parts)
    if style == '"':
        text = 'k: "' + body.replace("\n", "\n  ") + '"\n'
    else:  # a block scalar: escapes are plain characters there, line breaks kept or folded
        text = "k: " + style + "\n" + "".join("  " + line + "\n" for line in body.replace("\\", "x").split("\n"))
    try:
        value = yaml.load(text, Loader=yaml.CSafeLoader)["k"]
    except yaml.YAMLError:
        return
    assert len(str(value)) <= len(text)


def test_a_huge_scalar_is_refused_in_a_text_just_over_the_limit() -> None:
    big = "x" * (limits.MAX_SCALAR_CHARS + 1)
    for text in (f"a: {big}\n", f"- {big}\n", f"? {big}\n: a\n"):  # a value, an item, a key
        with pytest.raises(InputError, match="value longer than 2 MiB"):
            parse_text(text)
