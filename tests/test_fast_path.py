"""The fast paths change speed, never behaviour.

- Stream mode (libyaml load -> mutate -> dump, used by the Helm post-renderer and the KRM function) gives the same
  objects, the same changes and the same findings as the faithful path, on every corpus file kharden reads. Lines
  aside: stream mode keeps no positions, so findings have no line and generated objects cite `file`, not
  `file:line`.
- `fix -j 2` and `check -j 2` give byte-identical output, summary, diff, patches and reports to the serial run,
  with generators off and on, and report the same first error when a file is bad.
- The direct value construction and dumping equal PyYAML's SafeConstructor and CSafeDumper over the corpus.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from kharden import run
from kharden.errors import KhardenError
from kharden.fastdump import Dumper
from kharden.pipeline import harden
from kharden.read import parse_text
from kharden.read.fastload import Loader
from kharden.render import report
from kharden.stream import fix_stream

from .conftest import CORPUS, corpus_files

FILES = corpus_files()
PROFILE = "restricted"


def _objects(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def _faithful(path: Path, text: str) -> run.FixOutcome | None:
    try:
        return run.fix_sources([parse_text(text, str(path))], PROFILE)
    except KhardenError:
        return None  # kharden refuses this file: nothing to compare


def _no_line(findings: list[Any]) -> list[Any]:
    return [dataclasses.replace(f, line=None) for f in findings]


def _no_line_refs(value: Any) -> Any:
    """Generated objects cite their sources as `file:line`; stream mode keeps no positions, so no lines."""
    if isinstance(value, dict):
        return {k: _no_line_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_line_refs(v) for v in value]
    return re.sub(r":(\d+|None)\)", ")", value) if isinstance(value, str) else value


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_stream_mode_equals_the_faithful_path(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    faithful = _faithful(path, text)
    if faithful is None:
        pytest.skip("kharden refuses this file")
    streamed = fix_stream(text, PROFILE, path=str(path))
    # The file's own output, then the generated objects. (Not `stream()`: it ends the file with a line break before
    # the generated objects, which a block scalar at the very end of the file takes in. Reported to the lead.)
    faithful_objects = _objects(faithful.text_of(faithful.result.sources[0]))
    faithful_objects += _objects(faithful.generated_stream(separator=False))
    assert _no_line_refs(_objects(streamed.text)) == _no_line_refs(faithful_objects)
    assert _no_line_refs(streamed.result.changes) == _no_line_refs(faithful.result.changes)
    assert _no_line(streamed.result.findings) == _no_line(faithful.result.findings)
    assert _no_line_refs(streamed.result.generated) == _no_line_refs(faithful.result.generated)


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
    cyclic = yaml.load("r: &r [*r]\n", Loader=Loader)  # parse_text refuses cycles (kharden.read.limits)
    assert cyclic["r"][0] is cyclic["r"]


@pytest.fixture(scope="module")
def readable(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The corpus files kharden fixes without error (the parallel run must see the same input as the serial)."""
    if not FILES:
        pytest.skip("third-party corpus not found (set KHARDEN_CORPUS)")
    return [str(p) for p in FILES if _faithful(p, p.read_text(encoding="utf-8")) is not None]


def _stream(outcome: run.FixOutcome) -> str:
    try:
        return outcome.stream()
    except KhardenError as e:  # the corpus joined as one stream: a file ends in a block scalar without a newline
        return f"refused: {e}"


def _fix_views(outcome: run.FixOutcome) -> dict[str, Any]:
    return {"stream": _stream(outcome), "summary": outcome.summary, "diff": outcome.diff(),
            "jsonpatch": outcome.jsonpatch(), "outputs": outcome.outputs}


@pytest.mark.parametrize("generate", [False, True], ids=["no-generators", "generators"])
def test_fix_in_parallel_is_byte_identical(readable: list[str], generate: bool) -> None:
    serial = run.fix(readable, PROFILE, generate=generate)
    parallel = run.fix(readable, PROFILE, generate=generate, jobs=2)
    assert _fix_views(parallel) == _fix_views(serial)
    assert parallel.result.changes == serial.result.changes
    assert parallel.result.findings == serial.result.findings


@pytest.mark.parametrize("profile", [None, PROFILE])
def test_check_in_parallel_is_byte_identical(corpus: Path, profile: str | None) -> None:
    paths = [str(corpus)]
    serial, s_errors = run.check(paths, pss="restricted", profile=profile)
    parallel, p_errors = run.check(paths, pss="restricted", profile=profile, jobs=2)
    assert report.findings_text(parallel) == report.findings_text(serial)
    assert report.findings_json(parallel) == report.findings_json(serial)
    assert [str(e) for e in p_errors] == [str(e) for e in s_errors]


def test_parallel_reports_the_serial_runs_first_error(readable: list[str], tmp_path: Path) -> None:
    files = []
    for i, src in enumerate(readable[:6]):
        files.append(str(tmp_path / f"{i}.yaml"))
        shutil.copy(src, files[-1])
    (tmp_path / "2.yaml").write_text("a: [unclosed\n", encoding="utf-8")  # a read error in the middle
    (tmp_path / "4.yaml").write_text("kind: Deployment\napiVersion: apps/v1\nspec: {template: {spec: {containers: 5}}}\n")
    errors = []
    for jobs in (1, 2):
        with pytest.raises(KhardenError) as e:
            run.fix(files, PROFILE, jobs=jobs)
        errors.append(str(e.value))
    assert errors[0] == errors[1]


NETPOL_CASES = Path(__file__).parent / "golden_netpol"


@pytest.mark.parametrize("case", sorted(p.name for p in NETPOL_CASES.iterdir() if p.is_dir()))
def test_generators_in_parallel_across_files(case: str, tmp_path: Path) -> None:
    """Each document in a file of its own: a NetworkPolicy for one file's Deployment answers a Service in another,
    the generators' `file:line` citations and findings ask workers for lines, and the RBAC generator edits files the
    workers hold. Lines asked after the run (the workers gone) are read from the text again."""
    text = (NETPOL_CASES / case / "in.yaml").read_text(encoding="utf-8")
    docs = [d for d in re.split(r"(?m)^---[ \t]*\n", text) if d.strip()]
    files = []
    for i, doc in enumerate(docs):
        files.append(str(tmp_path / f"{i:02}.yaml"))
        Path(files[-1]).write_text(doc, encoding="utf-8")
    serial = run.fix(files, PROFILE)
    parallel = run.fix(files, PROFILE, jobs=2)
    assert serial.result.generated  # the case exercises the generators
    assert _fix_views(parallel) == _fix_views(serial)
    assert parallel.result.changes == serial.result.changes
    assert [(f, f.line) for f in parallel.result.findings] == [(f, f.line) for f in serial.result.findings]
    paths = [("spec", "template", "spec", "containers"), ("metadata",), ("nowhere",)]
    assert [o.line(p) for o in parallel.result.objects for p in paths] == [
        o.line(p) for o in serial.result.objects for p in paths]


@pytest.mark.skipif(multiprocessing.get_start_method() != "fork", reason="the workers must inherit the monkeypatch")
def test_parallel_reports_the_serial_runs_first_render_error(
    readable: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that does not render, after every file mutated and the generators ran: the same error either way."""
    files = []
    for i, src in enumerate(readable[:8]):
        files.append(str(tmp_path / f"{i}.yaml"))
        shutil.copy(src, files[-1])
    (tmp_path / "5.yaml").write_text(STREAM, encoding="utf-8")
    (tmp_path / "6.yaml").write_text(STREAM, encoding="utf-8")
    _bad_edits(monkeypatch, lambda t: (t.index("nginx"), t.index("nginx") + 5, "apache") if "nginx" in t else (0, 0, ""))
    errors = []
    for jobs in (1, 2):
        with pytest.raises(KhardenError) as e:
            run.fix(files, PROFILE, jobs=jobs)
        errors.append(str(e.value))
    assert "5.yaml" in errors[0]
    assert errors[0] == errors[1]


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
    result = harden([source], run.resolve_profile(PROFILE), generate_=False)
    with pytest.raises(KhardenError):  # as splice.verify raises it: "does not read back", or the YAML error
        render_verified(source, result.changes)
