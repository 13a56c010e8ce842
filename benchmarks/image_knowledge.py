"""What image knowledge costs `kharden fix` when no image option is given (issue 20: within 5%).

    python benchmarks/image_knowledge.py              # instructions with valgrind (cachegrind) when installed
    python benchmarks/image_knowledge.py --cpu 7      # else: best of 7 CPU times, alternated

Runs `kharden fix --no-generate` over the benchmark's generated corpus (2,000 objects, benchmarks/inputs.py) as a
process, twice: as shipped (the catalog looked up for every container, one note per container, and the edits that
knowledge brings: nginx's writable paths, postgres' uid...), and with the know stage replaced by one that learns
nothing (the figure before image knowledge existed). Instructions (valgrind's `I refs`) are what a shared, noisy
machine can measure to a fraction of a percent; CPU seconds there move by 10%. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, HERE]

RUN = """
import sys
if sys.argv[1] == "off":
    import kharden.pipeline
    kharden.pipeline.know_images = lambda *a, **k: []
from kharden.cli import main
sys.argv = ["kharden", "fix", "--no-generate", sys.argv[2]]
main()
"""


def instructions(mode: str, files: str) -> int:
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           sys.executable, "-c", RUN, mode, files], cwd=REPO, capture_output=True, text=True)
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if not found:
        raise SystemExit(f"valgrind gave no count: {done.stderr[-500:]}")
    return int(found.group(1).replace(",", ""))


def cpu_seconds(mode: str, files: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-c", RUN, mode, files], cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    if done.returncode > 1:  # 1: findings left, as on any real input
        raise SystemExit(f"kharden fix failed ({done.returncode}): {done.stderr[-500:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpu", type=int, metavar="N", help="best of N CPU times instead of instructions")
    parser.add_argument("--objects", type=int, default=2000)
    args = parser.parse_args()
    import inputs

    with tempfile.TemporaryDirectory(prefix="kharden-bench-") as work:
        files = os.path.dirname(inputs.build("generated", work, args.objects).files[0])  # type: ignore[union-attr]
        if args.cpu or not shutil.which("valgrind"):
            n = args.cpu or 7
            runs = {m: min(cpu_seconds(m, files) for _ in range(n)) for m in ("on", "off")}
            unit = "CPU s (best of %d)" % n
        else:
            runs = {m: instructions(m, files) for m in ("on", "off")}
            unit = "instructions"
    on, off = runs["on"], runs["off"]
    shown = "{:,.3f}" if isinstance(on, float) else "{:,}"
    print(f"kharden fix, {args.objects} objects: image knowledge {shown.format(on)} {unit}, without "
          f"{shown.format(off)}: {(on / off - 1) * 100:+.1f}%")


if __name__ == "__main__":
    main()
