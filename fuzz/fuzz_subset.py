"""Coverage-guided fuzzing of kharden's own YAML reader against libyaml: bytes -> UTF-8 -> kharden.read.subset.

The property (tests/test_subset.py and tests/test_positions.py hold it on the corpus and on hypothesis texts):
whatever the text, `subset.read_stream` returns None, or exactly the values `yaml.load_all(Loader=CSafeLoader)`
builds, type for type and key order for key order, and then the node trees kharden.read.positions makes from the
outlines equal the ones libyaml composes. A text subset reads but libyaml refuses is a finding too.

Not run in CI (atheris is not a test dependency). To run it:

    pip install atheris
    mkdir -p fuzz/corpus-subset && find ../shared/corpus/kubeaudit/head -name '*.yml' -exec cp {} fuzz/corpus-subset/ ';'
    python fuzz/fuzz_subset.py -max_len=2048 -timeout=10 fuzz/corpus-subset

A finding leaves `crash-<hash>` in the working directory; reproduce with `python fuzz/fuzz_subset.py crash-<hash>`.
"""

from __future__ import annotations

import os
import sys

import atheris

with atheris.instrument_imports():
    import yaml

    from kharden.read import positions, subset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from tests.test_positions import differences  # noqa: E402  (after the instrumented imports)
from tests.test_subset import same  # noqa: E402


def test_one_input(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    read = subset.read_outlined(text)
    if read is None:
        return
    want = list(yaml.load_all(text, Loader=yaml.CSafeLoader))  # raises: subset read what libyaml refuses
    assert same(read.values, want), (read.values, want)
    lines = positions.Text(read.lines, text)
    for outline, node in zip(read.outlines, yaml.compose_all(text, Loader=yaml.CSafeLoader)):
        if outline is not None:
            found = list(differences(positions.root(lines, outline), node))
            assert not found, found[:3]


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
