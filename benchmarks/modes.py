"""What each benchmark mode runs; `python modes.py JOB.json` times one mode in a fresh process.

Every mode reads its files from disk inside the timed region (the page cache makes that cheap) and produces its
output text in memory, as the command line would before writing it. Prints one JSON line: best wall and best CPU
seconds, the median wall seconds, the number of runs, and the process's peak resident memory (MB).
"""

from __future__ import annotations

import gc
import io
import json
import os
import resource
import statistics
import sys
import time
from typing import Any, Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

Mode = Callable[[list[str], dict[str, Any]], None]


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def libyaml_load(files: list[str], job: dict[str, Any]) -> None:
    import yaml

    for f in files:
        list(yaml.load_all(_read(f), Loader=yaml.CSafeLoader))


def libyaml_load_dump(files: list[str], job: dict[str, Any]) -> None:
    import yaml

    for f in files:
        docs = list(yaml.load_all(_read(f), Loader=yaml.CSafeLoader))
        yaml.dump_all(docs, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, width=1 << 16,
                      allow_unicode=True)


def ruamel_rt(files: list[str], job: dict[str, Any]) -> None:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.allow_duplicate_keys = True  # libyaml keeps the last one silently; let ruamel read what kharden reads
    for f in files:
        try:
            docs = list(y.load_all(_read(f)))
            y.dump_all(docs, io.StringIO())
        except Exception:  # ruamel refuses a few files kharden reads: counted, reported in the note
            job["failed"] = job.get("failed", 0) + 1


def _texts(outcome: Any) -> list[str]:
    """Every output text `kharden fix -o DIR FILES` writes: each file's text (changed or not) and the generated
    objects. (Joining them into one stdout stream costs a few string copies more.)"""
    return [outcome.text_of(s) for s in outcome.result.sources] + [outcome.generated_stream(separator=False)]


def fix(files: list[str], job: dict[str, Any]) -> None:
    """`kharden fix -o DIR FILES`: read, harden, splice, verify; every output text in memory."""
    from kharden import run

    _texts(run.fix(files, job["profile_obj"]))


def fix_no_generate(files: list[str], job: dict[str, Any]) -> None:
    """`kharden fix --no-generate FILES [-j N]`: mutators only, every file on its own."""
    from kharden import run

    _texts(run.fix(files, job["profile_obj"], generate=False, jobs=job.get("jobs_here", 1)))


def fix_no_generate_parallel(files: list[str], job: dict[str, Any]) -> None:
    fix_no_generate(files, {**job, "jobs_here": job["jobs"]})


def fix_parallel(files: list[str], job: dict[str, Any]) -> None:
    from kharden import run

    _texts(run.fix(files, job["profile_obj"], jobs=job["jobs"]))


def stream(files: list[str], job: dict[str, Any]) -> None:
    """Stream mode, as the Helm post-renderer and the KRM function run it on each stream."""
    from kharden.stream import fix_stream

    for f in files:
        fix_stream(_read(f), job["profile_obj"], path=f)


def check(files: list[str], job: dict[str, Any]) -> None:
    """`kharden check FILES` (PSS restricted), text report included."""
    from kharden import run
    from kharden.render import report

    findings, _ = run.check(files, pss="restricted")
    report.findings_text(findings)


MODES: dict[str, Mode] = {
    "libyaml-load": libyaml_load,
    "libyaml-load-dump": libyaml_load_dump,
    "ruamel-rt": ruamel_rt,
    "fix": fix,
    "fix-nogen": fix_no_generate,
    "fix-nogen-j": fix_no_generate_parallel,
    "fix-j": fix_parallel,
    "stream": stream,
    "check": check,
}


def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh at exec; ru_maxrss would carry the parent's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    """CPU seconds of this process (to the nanosecond: os.times counts in 10 ms ticks, 2-5% of a 1k row) and of
    its finished children (the -j workers, in ticks)."""
    t = os.times()
    return time.process_time() + t.children_user + t.children_system


def time_mode(job: dict[str, Any]) -> dict[str, Any]:
    fn = MODES[job["mode"]]
    if job["mode"] in ("fix", "fix-nogen", "fix-nogen-j", "fix-j", "stream"):
        from kharden.run import resolve_profile

        job["profile_obj"] = resolve_profile(job["profile"])  # profile loading is start-up, not throughput
    fn(job["files"][:1], job)  # warm up: the lazy imports of the first call are start-up, not throughput
    walls: list[float] = []
    cpus: list[float] = []
    begin = time.perf_counter()
    while len(walls) < job["repeat"] and (not walls or time.perf_counter() - begin < job["budget"]):
        gc.collect()
        t, c = time.perf_counter(), _cpu()
        fn(job["files"], job)
        walls.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    rss = peak_rss_mb()
    if job["mode"].endswith("-j"):  # plus the largest worker (its pages shared with this process count twice)
        rss += resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": min(walls), "cpu": min(cpus), "wall_median": statistics.median(walls), "runs": len(walls),
            "maxrss_mb": rss, "failed": job.get("failed", 0) // len(walls)}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps(time_mode(json.load(f))))
