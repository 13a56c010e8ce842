"""Coverage-guided fuzzing of kharden's input front end: bytes -> UTF-8 -> parse_text -> validate_source.

The property: whatever the bytes, reading ends in a parsed Source or an InputError, within the time and memory
limits; never another exception, a hang or a crash. libyaml is instrumented only as far as atheris sees it (the
Python side), which is where kharden's own checks live.

Not run in CI (atheris is not a test dependency). To run it:

    pip install atheris
    mkdir -p fuzz/corpus && find ../shared/corpus/kubeaudit/head -name '*.yml' -exec cp {} fuzz/corpus/ ';'
    python fuzz/fuzz_read.py -max_len=4096 -timeout=10 -rss_limit_mb=2048 fuzz/corpus

A crash leaves `crash-<hash>` in the working directory; reproduce with `python fuzz/fuzz_read.py crash-<hash>`.
"""

from __future__ import annotations

import os
import sys

import atheris

with atheris.instrument_imports():
    from kharden.errors import InputError
    from kharden.read.source import parse_text
    from kharden.read.validate import split_objects

sys.setrecursionlimit(10_000)  # a RecursionError below this would be a finding; the reader must not recurse deeply


def test_one_input(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # read_text_file's job, tested separately
    try:
        source = parse_text(text, "fuzz.yaml")
        good, problems = split_objects(source)
    except InputError as e:
        assert "\n" not in str(e), "an error must be one line"
        return
    assert all(isinstance(p, InputError) for p in problems)
    assert len(good) <= sum(1 for _ in source.objects())


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
