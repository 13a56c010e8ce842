"""One long stream, a range of documents at a time (kharden.pipeline.finish, kharden.read.parts): the same bytes as
the whole input at once, and no document kept once it is spliced."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from kharden import run
from kharden.errors import InputError, KhardenError
from kharden.integrations import helm
from kharden.pipeline import Request, finish
from kharden.pipeline import run as run_pipeline
from kharden.read import parse_text, parts
from tests.conftest import corpus_files

PROFILE = "restricted"

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{n}
  namespace: shop
  labels: {labels}
spec:
  selector:
    matchLabels:
      app: app-{n}
  template:
    metadata:
      labels:
        app: app-{n}
    spec:
      containers:
      - name: app  # the one container
        image: nginx:1.27
"""
BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: reader
  namespace: shop
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- kind: ServiceAccount
  name: default
  namespace: shop
"""
CONFIG = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c-{n}\ndata:\n  x: "yes"\n  y: |\n    keep\n\n'


def _stream(n: int) -> str:
    """Deployments in block and flow style, ConfigMaps, comments, and last a RoleBinding that keeps the first
    Deployment's token (learned before any range is mutated)."""
    docs = []
    for k in range(n):
        if k % 5 == 4:
            docs.append(f"# Source: chart/templates/cm-{k}.yaml\n" + CONFIG.format(n=k))
        else:
            labels = f"{{app: app-{k}}}" if k % 2 else f"\n    app: app-{k}"
            docs.append(DEPLOYMENT.format(n=k, labels=labels))
    return "---\n" + "---\n".join(docs + [BINDING])


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parts, "RANGE", 3)


def _both(text: str, path: str = "s.yaml") -> tuple[str, str]:
    """(the whole input at once, a range at a time): each source's output."""
    prof = run.resolve_profile(PROFILE)
    whole = run_pipeline(Request([parse_text(text, path)], prof, generate=False))
    ranged = parse_text(text, path, lazy=True)
    early = run_pipeline(Request([ranged], prof, generate=False, records=False))
    return whole.outputs.get(path, text), early.outputs.get(path, text)


def test_a_range_at_a_time_writes_the_same_bytes(small_ranges: None) -> None:
    assert parse_text(_stream(20), lazy=True).lazy is not None
    whole, ranged = _both(_stream(20))
    assert ranged == whole
    assert "automountServiceAccountToken: false" not in whole.split("name: app-1\n")[0]  # the binding counted


@pytest.mark.parametrize("odd", [
    "---\n---\n",  # an empty document: read whole, as before
    "---\nkey: [unclosed\n",  # an error: the reader's own, located in the stream
    "...\n",  # a document end: not cut
    "%YAML 1.1\n---\n",  # a directive: not cut
], ids=["empty", "error", "end", "directive"])
def test_a_stream_not_plainly_cut_is_read_whole(small_ranges: None, odd: str) -> None:
    text = _stream(8).replace("---\n", odd, 1) if odd.startswith("%") else _stream(8) + odd
    try:
        whole, ranged = _both(text)
    except KhardenError as e:  # then both say the same
        with pytest.raises(type(e)) as ranged_error:
            _both_early(text)
        assert (ranged_error.value.message, ranged_error.value.doc, ranged_error.value.line) == (
            e.message, e.doc, e.line)
        return
    assert ranged == whole


def _both_early(text: str) -> None:
    run_pipeline(Request([parse_text(text, "s.yaml", lazy=True)], run.resolve_profile(PROFILE), generate=False,
                         records=False))


def test_an_ill_shaped_object_late_in_the_stream_is_located_as_ever(small_ranges: None) -> None:
    text = _stream(10) + "---\napiVersion: v1\nkind: Pod\nmetadata: [not, a, mapping]\n"
    with pytest.raises(InputError) as whole:
        run_pipeline(Request([parse_text(text, "s.yaml")], run.resolve_profile(PROFILE), generate=False))
    with pytest.raises(InputError) as ranged:
        _both_early(text)
    assert (ranged.value.message, ranged.value.doc, ranged.value.line) == (
        whole.value.message, whole.value.doc, whole.value.line)


def test_no_document_is_kept_once_spliced(monkeypatch: pytest.MonkeyPatch, small_ranges: None) -> None:
    """The structural property that bounds memory: when the texts are made, no node tree read from the stream is
    alive and every document has let go of its value, with the cyclic collector off (no cycle may hold one)."""
    trees: list[weakref.ref[Any]] = []
    real_read = parts.Pieces.read

    def read(self: parts.Pieces, docs: range) -> Any:
        out = real_read(self, docs)
        trees.extend(weakref.ref(node) for node, _, _ in out or ())
        return out

    monkeypatch.setattr(parts.Pieces, "read", read)
    alive: list[int] = []
    real_texts = finish.Splicing.texts

    def texts(self: finish.Splicing, sources: Any) -> Any:
        alive.append(sum(ref() is not None for ref in trees))
        assert all(d.node is None and d.data is None for s in sources for d in s.docs)
        return real_texts(self, sources)

    monkeypatch.setattr(finish.Splicing, "texts", texts)
    gc.disable()
    try:
        out, result = helm.post_render(_stream(30), run.resolve_profile(PROFILE), False, records=False)
    finally:
        gc.enable()
    assert len(trees) > 30 and alive == [0]  # every range read (the bindings' one twice), none kept
    assert result.changes == [] and result.objects == [] and "securityContext" in out


def test_with_records_or_generators_everything_stays() -> None:
    """--summary, reports and generators read every object after the mutators: nothing is let go."""
    prof = run.resolve_profile(PROFILE)
    for request in (dict(records=True, generate=False), dict(records=False, generate=True)):
        source = parse_text(_stream(4), "s.yaml", lazy=True)
        assert not finish.early(Request([source], prof, **request), prof)  # type: ignore[arg-type]
        result = run_pipeline(Request([source], prof, **request))  # type: ignore[arg-type]
        assert all(d.data is not None for d in source.docs[1:])
        assert result.objects


def _streams() -> list[Any]:
    """The corpus files of more than one document (a range of one is the whole input at once)."""
    return [p for p in corpus_files() if "\n---" in p.read_text(encoding="utf-8", errors="replace")]


@pytest.mark.parametrize("path", _streams(), ids=lambda p: p.name)
def test_the_corpus_a_range_at_a_time(path: Any, small_ranges: None) -> None:
    """Every third-party stream kharden fixes: the same bytes a range (of 3 documents) at a time."""
    text = path.read_text(encoding="utf-8")
    try:
        whole = run_pipeline(Request([parse_text(text, str(path))], run.resolve_profile(PROFILE), generate=False))
    except KhardenError:
        return  # refused: tests/test_corpus.py holds what it says
    if text.startswith("\ufeff"):
        text = text[1:]
    source = parse_text(text, str(path), lazy=True)
    early = run_pipeline(Request([source], run.resolve_profile(PROFILE), generate=False, records=False))
    assert early.outputs == whole.outputs


@pytest.mark.parametrize("command", ["fix", "helm-post-render"])
def test_the_commands_write_the_same_with_or_without_records(tmp_path: Any, small_ranges: None, command: str) -> None:
    """`fix -q` and Helm without --summary take the input a range at a time; with a summary, whole: same stdout."""
    from click.testing import CliRunner

    from kharden.cli import cli

    f = tmp_path / "s.yaml"
    f.write_text(_stream(12), encoding="utf-8")
    args = ["fix", "--no-generate", str(f)] if command == "fix" else ["helm-post-render", "--no-generate"]
    loud = ["--summary"] if command != "fix" else []
    quiet = ["-q"] if command == "fix" else []
    texts = [CliRunner().invoke(cli, args + extra, input=_stream(12)) for extra in (quiet, loud)]
    assert [t.exit_code for t in texts] == [0, 0]
    assert texts[0].stdout == texts[1].stdout and "securityContext" in texts[0].stdout
