"""Golden cases: tests/golden/<mutatorID>/<case>/{in.yaml, out.yaml[, profile.yaml]}.

Each case is compared byte for byte, re-run to prove a second pass changes nothing, and its JSON patches applied to
the input objects must give the output objects. Set KHARDEN_REGOLD=1 to (re)write out.yaml files — then read every
changed line before committing them.
"""

from __future__ import annotations

import os
from pathlib import Path

import jsonpatch
import pytest
import yaml

from kharden.mutators import MUTATORS
from kharden.read import parse_text
from kharden.run import fix_sources

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p for p in GOLDEN.glob("*/*") if (p / "in.yaml").is_file())


def _fix(case: Path, text: str):  # type: ignore[no-untyped-def]
    profile = str(case / "profile.yaml") if (case / "profile.yaml").is_file() else "restricted"
    return fix_sources([parse_text(text, "in.yaml")], profile, generate=False)


@pytest.mark.parametrize("case", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_golden(case: Path) -> None:
    text = (case / "in.yaml").read_text(encoding="utf-8")
    outcome = _fix(case, text)
    got = outcome.stream()
    expected_file = case / "out.yaml"
    if os.environ.get("KHARDEN_REGOLD"):
        expected_file.write_text(got, encoding="utf-8", newline="")
    assert got == expected_file.read_text(encoding="utf-8")

    again = _fix(case, got)
    assert again.result.changes == [], "a second run must change nothing"
    assert again.stream() == got

    before = [d for d in yaml.safe_load_all(text)]
    after = [d for d in yaml.safe_load_all(got)]
    for entry in outcome.jsonpatch()["patches"]:
        obj = before[entry["document"]]
        if "item" in entry:
            obj = obj["items"][entry["item"]]
        want = after[entry["document"]]
        if "item" in entry:
            want = want["items"][entry["item"]]
        assert jsonpatch.apply_patch(obj, entry["patch"]) == want


def test_every_mutator_has_a_golden_case() -> None:
    covered = {p.parent.name for p in CASES}
    missing = sorted(set(MUTATORS) - covered)
    assert not missing, f"mutators without a golden case under tests/golden/: {missing}"
