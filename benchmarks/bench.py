"""kharden benchmark: its modes side by side with the YAML floors, on the same input, in one run.

    python benchmarks/bench.py [--objects 1000,10000] [--corpus ../shared/corpus] [--jobs 2] [--out FILE]

For each input (generated corpora of the given sizes, then the given corpus directory) every mode runs in its own
subprocess, so each gets a cold heap and its own honest peak memory. Each is timed best-of-N, in CPU seconds (the
machine may be shared: CPU time is what other load disturbs least) and in wall seconds (what `-j` improves).
The input is the same for every mode: the files kharden can read (a file kharden refuses is left out everywhere).
Prints one markdown report (docs/performance.md explains the columns). A benchmark, not a test: nothing asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, HERE]

import modes  # noqa: E402  (benchmarks/modes.py: what each mode runs)

DEFAULT_CORPUS = os.path.join(REPO, "..", "shared", "corpus")


@dataclass
class Input:
    """One benchmark input: the files, their object counts, and derived inputs (hardened copy, changed docs)."""

    name: str
    files: list[str]
    objects: int
    per_file: dict[str, int]
    changed_objects: int = 0
    hardened: list[str] = field(default_factory=list)
    changed_docs: list[str] = field(default_factory=list)
    changed_docs_objects: int = 0
    changed_per_file: dict[str, int] = field(default_factory=dict)
    rewritten_on_second_fix: int = 0
    left_out: list[str] = field(default_factory=list)


@dataclass
class Row:
    mode: str
    objects: int
    cpu: float
    wall: float
    runs: int
    rss_mb: float
    floor: str | None = None
    target: float | None = None
    note: str = ""
    failed: int = 0  # files the mode could not process (ruamel refuses a few)
    by_wall: bool = False  # rate from wall time (the -j row: its CPU time is spread over processes)

    @property
    def rate(self) -> float:
        t = self.wall if self.by_wall else self.cpu
        return self.objects / t if t else float("inf")


# -- running one mode in its own process ---------------------------------------------------------------------------
def run_mode(mode: str, files: list[str], objects: int, args: argparse.Namespace, work: str) -> Row:
    job = os.path.join(work, f"job-{mode}.json")
    with open(job, "w") as f:
        json.dump({"mode": mode, "files": files, "profile": args.profile, "jobs": args.jobs,
                   "repeat": args.repeat, "budget": args.budget}, f)
    out = subprocess.run([sys.executable, os.path.join(HERE, "modes.py"), job], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"mode {mode} failed")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    row = Row(mode, objects, r["cpu"], r["wall"], r["runs"], r["maxrss_mb"])
    row.failed = r["failed"]
    return row


# -- preparing inputs ----------------------------------------------------------------------------------------------
def prepare(name: str, files: list[str], root: str, args: argparse.Namespace, work: str) -> Input:
    """Keep the files kharden reads; fix them once to get the hardened copy and the changed documents."""
    from kharden import run
    from kharden.errors import KhardenError
    from kharden.read.source import parse_text, read_text_file

    profile = run.resolve_profile(args.profile)
    good, left_out = files, []
    try:
        outcome = run.fix(good, profile)
    except KhardenError:  # some file is refused: find which, one by one
        good = []
        for f in files:
            try:
                run.fix_sources([parse_text(read_text_file(f), f)], profile)
                good.append(f)
            except KhardenError:
                left_out.append(os.path.relpath(f, root))
        outcome = run.fix(good, profile)
    per_file: dict[str, int] = {}
    for o in outcome.result.objects:
        per_file[o.ref.file] = per_file.get(o.ref.file, 0) + 1
    inp = Input(name, good, len(outcome.result.objects), per_file, left_out=left_out)
    inp.changed_objects = len({c.obj for c in outcome.result.changes})
    slug = name.replace(" ", "-").replace(",", "")
    inp.hardened = _write_hardened(outcome, root, os.path.join(work, slug, "hardened"))
    inp.changed_per_file = _write_changed_docs(outcome, root, os.path.join(work, slug, "changed"))
    inp.changed_docs, inp.changed_docs_objects = list(inp.changed_per_file), sum(inp.changed_per_file.values())
    again = run.fix(inp.hardened, profile)
    inp.rewritten_on_second_fix = len(again.outputs)
    return inp


def _write_hardened(outcome: Any, root: str, target: str) -> list[str]:
    out = []
    for s in outcome.result.sources:
        path = os.path.join(target, os.path.relpath(s.path, root))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(outcome.text_of(s))
        out.append(path)
    return out


def _write_changed_docs(outcome: Any, root: str, target: str) -> dict[str, int]:
    """Only the documents `fix` changes, each file's as one stream: the input for the 'changed' comparison."""
    import yaml

    changed: dict[str, set[int]] = {}
    for c in outcome.result.changes:
        changed.setdefault(c.obj.file, set()).add(c.obj.doc)
    paths: dict[str, int] = {}
    for s in outcome.result.sources:
        docs = changed.get(s.path)
        if not docs or s.text.lstrip().startswith("%"):
            continue  # directives do not survive slicing documents out of a stream
        spans = _doc_spans(s.text, yaml)
        parts = [s.text[spans[i][0] : spans[i][1]].strip("\n") for i in sorted(docs)]
        text = "".join(p if p.startswith("---") else "---\n" + p for p in (p + "\n" for p in parts))
        path = os.path.join(target, os.path.relpath(s.path, root))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        paths[path] = sum(1 for o in outcome.result.objects if o.ref.file == s.path and o.ref.doc in docs)
    return paths


def _doc_spans(text: str, yaml: Any) -> list[tuple[int, int]]:
    spans, start = [], 0
    for ev in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(ev, yaml.DocumentStartEvent):
            start = ev.start_mark.index
        elif isinstance(ev, yaml.DocumentEndEvent):
            spans.append((start, ev.end_mark.index))
    return spans


def sample(inp: Input, limit: int, changed: bool = False) -> tuple[list[str], int]:
    """The first files holding at most `limit` objects (at least one file): for the slow ruamel floor."""
    files: list[str] = []
    n = 0
    for f in inp.changed_docs if changed else inp.files:
        count = inp.changed_per_file[f] if changed else inp.per_file.get(f, 0)
        if files and n + count > limit:
            break
        files.append(f)
        n += count
    return files, n


# -- the measurements ----------------------------------------------------------------------------------------------
class Plan(NamedTuple):
    """One row to measure: its label in the report, the mode that runs, on what, and what it is judged against."""

    label: str
    mode: str
    files: list[str]
    objects: int
    floor: str | None
    target: float | None
    note: str


def plan(inp: Input, args: argparse.Namespace) -> list[Plan]:
    """Every mode on this input, floors first."""
    n = inp.objects
    r_files, r_n = sample(inp, args.ruamel_max_objects)
    rows = [Plan(*r) for r in [
        ("libyaml-load", "libyaml-load", inp.files, n, None, None, ""),
        ("libyaml-load-dump", "libyaml-load-dump", inp.files, n, None, None, ""),
        ("ruamel-rt", "ruamel-rt", r_files, r_n, None, None, _sampled(r_n, n)),
        ("fix", "fix", inp.files, n, "ruamel-rt", None, "the profile's generators on"),
        (f"fix -j {args.jobs}", "fix-j", inp.files, n, "ruamel-rt", None, "objects/s from wall time"),
        ("fix --no-generate", "fix-nogen", inp.files, n, "ruamel-rt", None, ""),
        (f"fix --no-generate -j {args.jobs}", "fix-nogen-j", inp.files, n, "ruamel-rt", None,
         "objects/s from wall time"),
        ("stream", "stream", inp.files, n, "libyaml-load-dump", 1.5, ""),
        ("check", "check", inp.files, n, "libyaml-load", None, ""),
        ("libyaml-load (hardened input)", "libyaml-load", inp.hardened, n, None, None,
         "the floor for the row below: the same files"),
        ("check (hardened input)", "check", inp.hardened, n, "libyaml-load (hardened input)", 1.5, ""),
    ]]
    if inp.changed_docs:
        c_files, c_n = sample(inp, args.ruamel_max_objects, changed=True)
        rows += [
            Plan("ruamel-rt (changed)", "ruamel-rt", c_files, c_n, None, None,
                 _sampled(c_n, inp.changed_docs_objects)),
            Plan("fix (changed documents only)", "fix", inp.changed_docs, inp.changed_docs_objects,
                 "ruamel-rt (changed)", 1.2, ""),
            Plan("libyaml-load (changed)", "libyaml-load", inp.changed_docs, inp.changed_docs_objects, None, None,
                 "the same documents, only loaded: what the host allows"),
        ]
    return rows


def measure(inputs: list[Input], args: argparse.Namespace, work: str) -> list[list[Row]]:
    """Each input's rows. They run mode by mode, each mode on every input in turn: a shared host's pace drifts
    over the minutes a whole input takes, and the linearity ratios compare one mode at two sizes, which so run
    seconds apart, not minutes."""
    plans = [plan(inp, args) for inp in inputs]
    rows: list[list[Row]] = [[] for _ in inputs]
    for k in range(max((len(p) for p in plans), default=0)):
        for j, p in enumerate(plans):
            if k >= len(p):
                continue
            want = p[k]
            row = run_mode(want.mode, want.files, want.objects, args, work)
            row.mode, row.floor, row.target, row.note = want.label, want.floor, want.target, want.note
            row.by_wall = want.mode.endswith("-j")
            if row.failed:
                row.note = "; ".join(filter(None, [want.note, f"{row.failed} file(s) refused"]))
            rows[j].append(row)
    return rows


def _sampled(measured: int, total: int) -> str:
    return "" if measured == total else f"measured on the first {measured:,} of {total:,} objects"


# -- report --------------------------------------------------------------------------------------------------------
def table(inp: Input, rows: list[Row]) -> str:
    by_mode = {r.mode: r for r in rows}
    head = (f"### {inp.name}: {inp.objects:,} objects in {len(inp.files)} files; `fix` changes {inp.changed_objects:,}"
            f" objects; a second `fix` of its output rewrites {inp.rewritten_on_second_fix} files\n\n")
    if inp.left_out:
        head += f"Left out (kharden refuses them, so every mode skips them): {', '.join(inp.left_out)}\n\n"
    lines = ["| mode | objects | CPU s | wall s | runs | objects/s | × floor (time) | target | peak RSS MB | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio, target = "", ""
        if r.floor and r.floor in by_mode and r.rate and by_mode[r.floor].rate:
            ratio = f"{by_mode[r.floor].rate / r.rate:.2f}× {r.floor}"
            if r.target is not None:
                target = f"≤ {r.target}× {'✅' if by_mode[r.floor].rate / r.rate <= r.target else '❌'}"
        lines.append(f"| {r.mode} | {r.objects:,} | {r.cpu:.3f} | {r.wall:.3f} | {r.runs} | {r.rate:,.0f} | "
                     f"{ratio} | {target} | {r.rss_mb:.0f} | {r.note} |")
    return head + "\n".join(lines) + "\n"


# -- the host's pace against the machines the issue's targets were set on ---------------------------------------
REFERENCE = os.path.join(HERE, "reference-deployment.yaml")
ISSUE_RUAMEL_MS = 6.0  # issue 5: "a ruamel.yaml round trip of a ~30-line Deployment costs about 6 ms"
ISSUE_LIBYAML_MS = ISSUE_RUAMEL_MS / 20  # "PyYAML's libyaml C loader about a twentieth of that"


@dataclass
class Pace:
    """The two floors on the reference Deployment, best CPU ms, measured before and after the inputs' rows."""

    ruamel_ms: list[float]  # a ruamel round trip
    libyaml_ms: list[float]  # a libyaml load

    @property
    def scale(self) -> float:
        """How many times as long as issue 5's machines this host took for the ruamel floor (1.0: as fast), the mean
        of before and after: a shared host's pace drifts over a run."""
        return statistics.mean(self.ruamel_ms) / ISSUE_RUAMEL_MS

    def text(self) -> str:
        ruamel, libyaml = (" then ".join(f"{v:.{d}f}" for v in vs) for vs, d in ((self.ruamel_ms, 2), (self.libyaml_ms, 3)))
        return (f"Host pace, before then after the rows below: the reference ~30-line Deployment "
                f"(`benchmarks/reference-deployment.yaml`) takes {ruamel} ms for a ruamel round trip (issue 5's "
                f"machines: about {ISSUE_RUAMEL_MS:.0f} ms) and {libyaml} ms for a libyaml load (about "
                f"{ISSUE_LIBYAML_MS:.1f} ms): this host took {self.scale:.2f}× and "
                f"{statistics.mean(self.libyaml_ms) / ISSUE_LIBYAML_MS:.2f}× as long.\n")


def pace(args: argparse.Namespace, work: str, before: Pace | None = None) -> Pace:
    """The two floors on the reference Deployment, read 100 and 400 times per run (best of the runs)."""
    ruamel = run_mode("ruamel-rt", [REFERENCE] * 100, 100, args, work).cpu * 1000 / 100
    libyaml = run_mode("libyaml-load", [REFERENCE] * 400, 400, args, work).cpu * 1000 / 400
    return Pace([ruamel], [libyaml]) if before is None else Pace(before.ruamel_ms + [ruamel],
                                                                   before.libyaml_ms + [libyaml])


def targets(results: list[tuple[Input, list[Row]]], start_ms: float, jobs: int, host: Pace | None = None) -> str:
    """The issue's targets, each judged on the largest generated corpus (and the given corpus where it applies)."""
    lines = ["| target | measured | met |", "|---|---|---|"]

    def row(label: str, values: list[tuple[str, float]], ok: Callable[[float], bool], fmt: str) -> None:
        if not values:  # nothing this run measures it on (no 10k corpus, no changed documents)
            return
        shown = "; ".join(f"{fmt.format(v)} ({name})" for name, v in values)
        lines.append(f"| {label} | {shown} | {'✅' if all(ok(v) for _, v in values) else '❌'} |")

    def ratio(rows: dict[str, Row], mode: str) -> float:
        r = rows[mode]
        return rows[r.floor].rate / r.rate if r.floor and r.rate else float("nan")

    big = [(i, {r.mode: r for r in rows}) for i, rows in results]
    gen = [(i, rows) for i, rows in big if i.name.startswith("generated")]
    judged = gen[-1:] + [(i, rows) for i, rows in big if not i.name.startswith("generated")]
    row("stream ≤ 1.5× libyaml load+dump", [(i.name, ratio(r, "stream")) for i, r in judged], lambda v: v <= 1.5,
        "{:.2f}×")
    row("check on hardened input ≤ 1.5× libyaml load", [(i.name, ratio(r, "check (hardened input)")) for i, r in judged],
        lambda v: v <= 1.5, "{:.2f}×")
    changed = [(i, r) for i, r in judged if "fix (changed documents only)" in r]
    row("fix, changed documents ≤ 1.2× ruamel round trip of them",
        [(i.name, ratio(r, "fix (changed documents only)")) for i, r in changed], lambda v: v <= 1.2, "{:.2f}×")
    row("fix ≥ 1,000 changed objects/s on one core",
        [(i.name, r["fix (changed documents only)"].rate) for i, r in changed], lambda v: v >= 1000, "{:,.0f}/s")
    if host is not None:  # the same rates at the pace of the machines the target was set on (see Pace)
        row("the same, at the pace of issue 5's machines (rate × this host's ruamel ms / 6 ms)",
            [(i.name, r["fix (changed documents only)"].rate * host.scale) for i, r in changed], lambda v: v >= 1000,
            "{:,.0f}/s")
    row("unchanged documents copied byte for byte (a second fix rewrites no file)",
        [(i.name, i.rewritten_on_second_fix) for i, _ in judged], lambda v: v == 0, "{:.0f} files rewritten")
    row("start-up `kharden --version` ≤ 150 ms", [("best wall", start_ms)], lambda v: v <= 150, "{:.0f} ms")
    row("stream mode, 10k objects, < 400 MB peak",
        [(i.name, r["stream"].rss_mb) for i, r in gen if i.objects >= 10_000], lambda v: v < 400, "{:.0f} MB")
    if len(gen) > 1:
        (small, s_rows), (large, l_rows) = gen[0], gen[-1]
        for mode in ("fix", "fix --no-generate", "stream", "check"):
            row(f"linear: {mode} throughput at {large.objects:,} ≥ 0.8 × at {small.objects:,}",
                [("ratio", l_rows[mode].rate / s_rows[mode].rate)], lambda v: v >= 0.8, "{:.2f}")
    for serial in ("fix", "fix --no-generate"):
        row(f"many files in parallel: `{serial} -j` speed-up over `{serial}` (wall)",
            [(i.name, r[serial].wall / r[f"{serial} -j {jobs}"].wall) for i, r in gen[-1:]], lambda v: v > 1.2,
            "{:.2f}×")
    return "\n".join(lines) + "\n"


def startup(n: int) -> tuple[str, float]:
    def best(cmd: list[str]) -> float:
        times = []
        for _ in range(n):
            t = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, capture_output=True, check=True)
            times.append(time.perf_counter() - t)
        return min(times)

    py = best([sys.executable, "-c", "pass"])
    kh = best([sys.executable, "-m", "kharden", "--version"])
    return (f"Start-up, best of {n} (wall): `python -m kharden --version` {kh * 1000:.0f} ms; a bare "
            f"`python -c pass` {py * 1000:.0f} ms.\n", kh * 1000)


def linearity(results: list[tuple[Input, list[Row]]]) -> str:
    gen = [(i, rows) for i, rows in results if i.name.startswith("generated")]
    if len(gen) < 2:
        return ""
    (small, s_rows), (large, l_rows) = gen[0], gen[-1]
    lines = [f"Linearity: throughput on {large.objects:,} objects as a share of that on {small.objects:,} "
             "(1.00 = perfectly linear; lower = super-linear cost)\n",
             "| mode | " + " | ".join(r.mode for r in s_rows) + " |", "|---|" + "---:|" * len(s_rows)]
    l_by = {r.mode: r for r in l_rows}
    lines.append("| ratio | " + " | ".join(f"{l_by[r.mode].rate / r.rate:.2f}" if r.mode in l_by else ""
                                           for r in s_rows) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objects", default="1000,10000", help="generated corpus sizes, comma separated ('' for none)")
    p.add_argument("--corpus", default=DEFAULT_CORPUS, help="a directory of manifests ('' for none)")
    p.add_argument("--profile", default="restricted")
    p.add_argument("--jobs", type=int, default=2, help="N for the `fix -j N` row")
    p.add_argument("--repeat", type=int, default=3, help="runs per mode (best is reported)")
    p.add_argument("--budget", type=float, default=30.0, help="seconds after which a mode stops repeating")
    p.add_argument("--ruamel-max-objects", type=int, default=500, help="the ruamel floor runs on this many at most")
    p.add_argument("--startup-runs", type=int, default=10)
    p.add_argument("--out", help="also write the report to this file")
    args = p.parse_args(argv)
    from corpus import write_corpus

    work = tempfile.mkdtemp(prefix="kharden-bench-")
    try:
        inputs = []
        for n in [int(x) for x in args.objects.split(",") if x.strip()]:
            d = os.path.join(work, f"gen-{n}")
            inputs.append(prepare(f"generated {n:,}", write_corpus(d, n), d, args, work))
        if args.corpus and not os.path.isdir(args.corpus):
            print(f"bench: no corpus at {args.corpus}; measuring the generated corpora only", file=sys.stderr)
        elif args.corpus:
            from kharden.read.source import expand_paths

            root = os.path.normpath(args.corpus)
            inputs.append(prepare(f"corpus {os.path.relpath(root, REPO)}", expand_paths([root]), root, args, work))
        host = pace(args, work)
        results = list(zip(inputs, measure(inputs, args, work)))
        host = pace(args, work, host)
        start_text, start_ms = startup(args.startup_runs)
        report = (header(args) + host.text() + "\n## Targets\n\n" + targets(results, start_ms, args.jobs, host)
                  + "\n## Measurements\n\n")
        report += "\n".join(table(i, r) for i, r in results) + "\n" + linearity(results) + "\n" + start_text
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(report)


def header(args: argparse.Namespace) -> str:
    import platform

    import ruamel.yaml
    import yaml

    return (f"kharden benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python "
            f"{platform.python_version()}, PyYAML {yaml.__version__} (libyaml {yaml.__with_libyaml__}), ruamel.yaml "
            f"{ruamel.yaml.__version__}; {os.cpu_count()} CPUs; profile `{args.profile}`; best of "
            f"{args.repeat} (fewer past {args.budget:.0f} s).\n\n")


if __name__ == "__main__":
    main()
