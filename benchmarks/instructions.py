"""Instructions of one `fix` of the generated 1k corpus's changed documents, counted by valgrind.

CPU times on a shared machine move by 20-50% between runs; instruction counts do not (the same code, input and
environment give the same count to 0.1%, when no other valgrind runs beside it). This is the measure each change of
docs/performance.md's table is judged by:

    python benchmarks/instructions.py            # about two minutes; prints e.g. "2,727 M"

It writes the corpus and its changed documents (as benchmarks/bench.py makes them) to a temporary directory, then
runs two processes under `valgrind --tool=callgrind`: one that fixes those documents once and one that fixes them
twice. The difference is one warm fix: no start-up, no imports, no first-call caches.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

_RUN = """
import sys
from kharden import run
files = sys.argv[2:]
profile = run.resolve_profile("restricted")
for _ in range(int(sys.argv[1])):
    outcome = run.fix(files, profile)
    [outcome.text_of(s) for s in outcome.result.sources]
    outcome.generated_stream(separator=False)
"""


def changed_documents(work: str, objects: int) -> list[str]:
    sys.path.insert(0, HERE)
    import bench
    import corpus

    root = os.path.join(work, "generated")
    files = corpus.write_corpus(root, objects)
    args = argparse.Namespace(profile="restricted")
    return bench.prepare("generated", files, root, args, work).changed_docs


def instructions(fixes: int, files: list[str]) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", _RUN, str(fixes),
         *files], capture_output=True, text=True, check=True)
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{out.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1000, help="size of the generated corpus (default 1000)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed")
    with tempfile.TemporaryDirectory() as work:
        files = changed_documents(work, args.objects)
        one, two = instructions(1, files), instructions(2, files)
    print(f"{(two - one) / 1e6:,.0f} M instructions: one fix of the changed documents of {args.objects:,} objects")


if __name__ == "__main__":
    main()
