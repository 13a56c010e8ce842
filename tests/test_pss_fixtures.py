"""The official Pod Security Standards fixtures (kubernetes/pod-security-admission test/testdata, v1.37).

Each `pass/` Pod gives no finding at its level; each `fail/` Pod gives at least one, and the check named by its
file (`allowprivilegeescalation0` -> allowPrivilegeEscalation) is among the findings' rules. At the restricted
level upstream runs a restricted check *instead of* the baseline check it overrides (capabilities_baseline ->
capabilities_restricted, hostPathVolumes -> restrictedVolumes, seccompProfile_baseline ->
seccompProfile_restricted, procMount -> procMount_restricted); there the overriding check must be the one found.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kharden.checks.pss import LATEST, REGISTRY, check_objects
from kharden.read import parse_text
from tests.conftest import CORPUS

FIXTURES = CORPUS / "pod-security-admission"
VERSION_DIR = f"v{LATEST}"
EXPECTED_COUNTS = {
    ("baseline", "pass"): 15,
    ("baseline", "fail"): 34,
    ("restricted", "pass"): 23,
    ("restricted", "fail"): 76,
}


def _fixtures() -> list[tuple[str, str, Path]]:
    out = []
    for level in ("baseline", "restricted"):
        for outcome in ("pass", "fail"):
            folder = FIXTURES / level / VERSION_DIR / outcome
            out += [(level, outcome, f) for f in sorted(folder.glob("*.yaml"))]
    return out


ALL = _fixtures()


def _overriding(check_id: str, level: str) -> str:
    """The check that runs in place of `check_id` at `level` and the latest version (itself if none)."""
    if level == "restricted":
        for check in REGISTRY:
            versioned = check.versions[-1]
            if check.level == "restricted" and check_id in {o.lower() for o in versioned.overrides}:
                return check.id.lower()
    return check_id


def test_the_corpus_holds_every_fixture() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"third-party corpus not found at {CORPUS} (set KHARDEN_CORPUS)")
    counts: dict[tuple[str, str], int] = {}
    for level, outcome, _ in ALL:
        counts[(level, outcome)] = counts.get((level, outcome), 0) + 1
    assert counts == EXPECTED_COUNTS, f"fixtures missing under {FIXTURES}"


@pytest.mark.parametrize(
    ("level", "outcome", "path"), ALL, ids=[f"{lv}/{oc}/{p.stem}" for lv, oc, p in ALL]
)
def test_fixture(level: str, outcome: str, path: Path) -> None:
    objects = list(parse_text(path.read_text(), str(path)).objects())
    findings = check_objects(objects, level)
    if outcome == "pass":
        assert findings == [], [f.message for f in findings]
        return
    assert findings, f"{path.name} must be rejected at {level}"
    named = re.sub(r"\d+$", "", path.stem).lower()
    expected = _overriding(named, level)
    rules = {f.rule.removeprefix("pss.").lower() for f in findings}
    assert expected in rules, (expected, sorted(rules))
