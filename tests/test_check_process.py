"""kharden as a process: what it pays that a call in-process does not (docs/performance.md, "as a process")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).parents[1] / "samples"

# Runs kharden's entry point as `kharden ...` does, then says what the interpreter's final collection would walk.
_PROBE = """
import gc, sys
from kharden.cli import main
sys.argv = ["kharden", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
frozen = gc.get_freeze_count()
print(code, frozen, gc.collect(), file=sys.stderr)
"""


def _probe(*args: str) -> tuple[int, int, int]:
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120)
    code, frozen, collected = done.stderr.strip().splitlines()[-1].split()
    return int(code), int(frozen), int(collected)


def test_the_entry_point_leaves_its_heap_to_the_operating_system() -> None:
    """After `main()` the heap is frozen (kharden.gcpause.leave_to_exit): the interpreter's final collection, which
    would walk every object the run left (a fix leaves garbage cycles) to free memory the operating system takes back
    anyway, finds nothing to walk. Without it the run's collector state is restored and nothing is frozen."""
    samples = sorted(str(p) for p in SAMPLES.glob("*.yaml"))
    code, frozen, collected = _probe("fix", "-q", *samples)
    assert code == 0
    assert frozen > 10_000  # the run's own objects and the interpreter's, out of the final collection's sight
    assert collected == 0


def test_a_failing_command_leaves_its_heap_too() -> None:
    """The freeze is in a `finally`: an error's exit (2, a usage error here) skips the final walk as well."""
    code, frozen, collected = _probe("check", "--format", "nonsense", str(SAMPLES / "shop.yaml"))
    assert code == 2
    assert frozen > 0 and collected == 0
