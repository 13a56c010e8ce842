"""kharden benchmark: every command as users run it, each against its libyaml floor on the same input, in one run.

    python benchmarks/bench.py            # generated 2,000 objects, ../shared/corpus, the flow-style variant
    python benchmarks/bench.py --quick    # smaller inputs, one run each: a minute, for a check by hand

Each command runs twice: as a process (`kharden ...`: what a shell, pre-commit or Helm pays, start-up included) and
in-process (the CLI's own function, called after imports: kharden's own cost). Its floor is the least any tool
must do with that input using libyaml: load it (check), or load and write it back (fix, helm-post-render, krm),
timed the same way. The ratio is kharden's CPU time over the floor's; best of --repeat runs. The memory rows are the
peak RSS of `kharden helm-post-render` and `kharden fix -q FILE` on one stream of 20,000 short objects (--quick:
2,000), against the issue's 100 MB target. A benchmark, not a test: nothing asserts.
docs/performance.md explains the method and shows a table.
"""

from __future__ import annotations

import argparse
import compileall
import io
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, HERE]

import inputs  # noqa: E402
import yaml  # noqa: E402

SHARED = os.path.join(REPO, "..", "shared", "corpus")


@dataclass
class Command:
    name: str
    args: Callable[[inputs.Corpus, str], list[str]]  # kharden's arguments, given the corpus and a scratch dir
    stdin: Callable[[inputs.Corpus], str | None]
    floor: str  # "load", "load+dump", or "load+dump+write" (each file written into a directory)
    floor_files: Callable[[inputs.Corpus], list[str]]
    fresh: bool = False  # the input is rewritten (-i): copied afresh before each run


def _files(c: inputs.Corpus) -> list[str]:
    return c.files


def _one(c: inputs.Corpus) -> list[str]:
    return sorted(os.path.join(c.one_per_file, f) for f in os.listdir(c.one_per_file))


def _hardened(c: inputs.Corpus) -> list[str]:
    return [os.path.join(r, f) for r, _, fs in os.walk(c.hardened) for f in sorted(fs)]


COMMANDS = [
    Command("fix FILE", lambda c, w: ["fix", "-q", *c.files], lambda c: None, "load+dump", _files),
    Command("fix -o DIR (one object per file)", lambda c, w: ["fix", "-q", "-o", os.path.join(w, "out"),
                                                              c.one_per_file], lambda c: None, "load+dump+write",
            _one),
    Command("fix -i", lambda c, w: ["fix", "-q", "-i", os.path.join(w, "inplace")], lambda c: None, "load+dump",
            _files, fresh=True),
    Command("check --profile restricted (raw)", lambda c, w: ["check", "--profile", "restricted", *c.files],
            lambda c: None, "load", _files),
    Command("check --profile restricted (hardened)", lambda c, w: ["check", "--profile", "restricted", c.hardened],
            lambda c: None, "load", _hardened),
    Command("helm-post-render (stdin)", lambda c, w: ["helm-post-render"], lambda c: c.stream, "load+dump",
            lambda c: []),
    Command("krm (ResourceList)", lambda c, w: ["krm"], lambda c: open(c.resource_list, encoding="utf-8").read(),
            "load+dump", lambda c: [c.resource_list]),
]


def floor(kind: str, files: list[str], stdin: str | None, out: str) -> None:
    """What any tool must do with the input: read the files (or stdin's text), load them with libyaml (and write them
    back; with `-o DIR`, into a file each in `out`, made empty beforehand: creating 2,000 files costs about as much as
    reading them, and any tool writing them pays it)."""
    for i, path in enumerate(files or ["-"]):
        if path == "-":
            text = stdin or ""
        else:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        values = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
        if kind.startswith("load+dump"):
            dumped = yaml.dump_all(values, Dumper=yaml.CSafeDumper, sort_keys=False)
            if kind == "load+dump+write":
                with open(os.path.join(out, f"{i:05d}.yaml"), "w", encoding="utf-8") as f:
                    f.write(dumped)


def _fresh(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)


def _prepare(cmd: Command, c: inputs.Corpus, work: str) -> None:
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    if cmd.fresh:
        shutil.rmtree(os.path.join(work, "inplace"), ignore_errors=True)
        shutil.copytree(os.path.dirname(c.files[0]), os.path.join(work, "inplace"))


def in_process(cmd: Command, c: inputs.Corpus, work: str) -> float:
    """CPU seconds of the command's CLI function, called in this process (imports and caches warm)."""
    from kharden.cli import cli

    _prepare(cmd, c, work)
    stdin, stdout, stderr = sys.stdin, sys.stdout, sys.stderr
    text = cmd.stdin(c)
    sys.stdin = io.TextIOWrapper(io.BytesIO((text or "").encode()), encoding="utf-8")
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
    sys.stderr = err = io.StringIO()  # the command's summary is not the benchmark's table: shown only on failure
    code: int | str | None = 0
    start = time.process_time()
    try:
        cli.main(cmd.args(c, work), standalone_mode=False)
    except SystemExit as e:
        code = e.code
    finally:
        spent = time.process_time() - start
        sys.stdout.close()
        sys.stdin, sys.stdout, sys.stderr = stdin, stdout, stderr
    if code not in (0, 1, None):
        raise RuntimeError(f"{cmd.name}: exit {code}: {err.getvalue()[-300:]}")
    return spent


def as_process(argv: list[str], stdin: str | None) -> float:
    """CPU seconds of a child process: its own rusage (os.wait4), not RUSAGE_CHILDREN's sum of every child so far.
    Not its peak memory: a child of this process starts with this process's high-water mark (see _PEAK_OF)."""
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.append(child.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    try:
        child.stdin.write(stdin or "")  # type: ignore[union-attr]
    except BrokenPipeError:
        pass
    child.stdin.close()  # type: ignore[union-attr]
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    reader.join()
    if child.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv[:3])}...: exit {child.returncode}: {''.join(err)[-300:]}")
    return usage.ru_utime + usage.ru_stime


# Starts argv (stdin from a file, stdout discarded) and prints its CPU seconds and peak RSS in KB. The memory rows
# run their command through it: on Linux a child's ru_maxrss starts at its parent's resident size when it execs
# (the kernel keeps the old image's high-water mark), so a child of this benchmark, which holds the corpora, would
# report at least the benchmark's own size; a child of this small process reports its own.
_PEAK_OF = """
import os, subprocess, sys
with open(sys.argv[1], "rb") as stdin:
    child = subprocess.Popen(sys.argv[2:], stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
code = os.waitstatus_to_exitcode(status)
if code not in (0, 1):
    sys.exit(f"exit {code}: {err[-300:].decode(errors='replace')}")
print(usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


def peak_of(argv: list[str], stdin_path: str) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of `argv`, started by a small intermediate process (_PEAK_OF says why)."""
    done = subprocess.run([sys.executable, "-c", _PEAK_OF, stdin_path, *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:3])}...: {done.stderr[-300:]}")
    cpu, rss_kb = done.stdout.split()
    return float(cpu), float(rss_kb) / 1024


def _kharden() -> list[str]:
    return [sys.executable, "-m", "kharden"]


def _floor_process(kind: str, files: list[str], out: str) -> list[str]:
    code = ("import sys, yaml\nfor i, p in enumerate(sys.argv[3:] or ['-']):\n"
            "    t = sys.stdin.read() if p == '-' else open(p, encoding='utf-8').read()\n"
            "    v = list(yaml.load_all(t, Loader=yaml.CSafeLoader))\n"
            "    if sys.argv[1] != 'load': d = yaml.dump_all(v, Dumper=yaml.CSafeDumper, sort_keys=False)\n"
            "    if sys.argv[1] == 'load+dump+write': open(f'{sys.argv[2]}/{i:05d}.yaml', 'w', encoding='utf-8').write(d)\n")
    return [sys.executable, "-c", code, kind, out, *files]


def best(fn: Callable[[], float], repeat: int) -> float:
    return min(fn() for _ in range(repeat))


def measure(cmd: Command, c: inputs.Corpus, work: str, repeat: int) -> dict[str, float]:
    files = cmd.floor_files(c)
    floor_stdin = None if files else cmd.stdin(c)
    out = os.path.join(work, "floor-out")

    def floor_cpu() -> float:
        _fresh(out)
        start = time.process_time()
        floor(cmd.floor, files, floor_stdin, out)
        return time.process_time() - start

    def floor_process_cpu() -> float:
        _fresh(out)
        return as_process(_floor_process(cmd.floor, files, out), floor_stdin)

    def process_cpu() -> float:
        _prepare(cmd, c, work)
        return as_process(_kharden() + cmd.args(c, work), cmd.stdin(c))

    return {
        "in": best(lambda: in_process(cmd, c, work), repeat), "in_floor": best(floor_cpu, repeat),
        "proc": best(process_cpu, repeat),
        "proc_floor": best(floor_process_cpu, repeat),
    }


MEMORY_TARGET_MB = 100  # issue 19: peak RSS of one 20,000-object stream


def memory_rows(objects: int, work: str) -> list[str]:
    """Peak RSS of `helm-post-render` (stdin) and `fix -q FILE` on one stream of `objects` short Deployments (about
    350 bytes each, labels in flow style: inputs.short_stream), generators off: what kharden keeps per object weighs
    most against the text there. The child's own peak (os.wait4), against the issue's target."""
    stream = inputs.short_stream(objects)
    path = os.path.join(work, "memory-stream.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(stream)
    rows = []
    for name, args, stdin in (("helm-post-render --no-generate", ["helm-post-render", "--no-generate"], path),
                              ("fix -q --no-generate FILE", ["fix", "-q", "--no-generate", path], os.devnull)):
        cpu, rss = peak_of(_kharden() + args, stdin)
        verdict = "within" if rss <= MEMORY_TARGET_MB else "over"
        rows.append(f"memory: {name}, {objects:,} objects in one stream ({len(stream) / 1e6:.1f} MB): peak RSS "
                    f"{rss:.0f} MB ({verdict} the {MEMORY_TARGET_MB} MB target), {cpu:.1f} s CPU")
    return rows


def checkov_row(c: inputs.Corpus) -> str:
    exe = shutil.which("checkov")
    if exe is None:
        return "checkov: not installed, comparison skipped (pip install checkov to compare)"
    cpu_k = as_process(_kharden() + ["check", "--profile", "restricted", *c.files], None)
    cpu_c = as_process([exe, "--quiet", "-d", os.path.dirname(c.files[0]), "--framework", "kubernetes"], None)
    return f"checkov on {c.name}: {cpu_c:.2f} s CPU; kharden check: {cpu_k:.2f} s CPU ({cpu_c / cpu_k:.1f}x faster)"


def table(c: inputs.Corpus, rows: list[tuple[str, dict[str, float]]]) -> str:
    out = [f"\n### {c.name}: {c.objects:,} objects in {len(c.files):,} files\n",
           "| command | in-process s | floor s | ratio | process s | floor s | ratio |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for name, m in rows:
        out.append(f"| {name} | {m['in']:.2f} | {m['in_floor']:.2f} | {m['in'] / m['in_floor']:.2f}x | "
                   f"{m['proc']:.2f} | {m['proc_floor']:.2f} | {m['proc'] / m['proc_floor']:.2f}x |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="200 objects per corpus, one run each")
    p.add_argument("--objects", type=int, default=2000, help="objects per corpus")
    p.add_argument("--corpora", default="generated,shared,flow")
    p.add_argument("--shared", default=SHARED, help="the third-party corpus directory")
    p.add_argument("--repeat", type=int, default=3, help="runs per measurement (the best is reported)")
    p.add_argument("--memory-objects", type=int, default=20000)
    args = p.parse_args(argv)
    if args.quick:
        args.objects, args.repeat, args.memory_objects = 200, 1, 2000
    # An installed kharden runs from bytecode (pip compiles it; Python caches it on first import). Where bytecode is
    # not written (PYTHONDONTWRITEBYTECODE, as on the machine this was written on), every process would compile
    # kharden's modules from source first: 0.15 s more start-up than users pay.
    compileall.compile_dir(os.path.join(REPO, "kharden"), quiet=1)
    work = tempfile.mkdtemp(prefix="kharden-bench-")
    try:
        print(f"kharden benchmark: {args.objects:,} objects per corpus, best of {args.repeat}, CPU seconds")
        for name in args.corpora.split(","):
            c = inputs.build(name, work, args.objects, args.shared)
            if c is None:
                print(f"\n### {name}: not found ({args.shared}), skipped")
                continue
            print(table(c, [(cmd.name, measure(cmd, c, work, args.repeat)) for cmd in COMMANDS]), flush=True)
            if name == "shared":
                print(checkov_row(c))
        print("\n" + "\n".join(memory_rows(args.memory_objects, work)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
