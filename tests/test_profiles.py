"""Built-in profiles: they load, extend each other, validate with messages naming key and file, and behave."""

from __future__ import annotations

from pathlib import Path

import pytest

from kharden.errors import ProfileError
from kharden.mutators import MUTATORS
from kharden.profile import builtin_names, load_profile
from tests.mutating import mutate, pod_spec, twice

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: app\n    image: registry.example/app\n"


def test_builtin_profiles_are_listed_and_load() -> None:
    assert {"baseline", "restricted", "strict"} <= set(builtin_names())
    for name in builtin_names():
        prof = load_profile(name)
        assert prof.description and prof.pss in ("baseline", "restricted")
        assert list(prof.mutators) == list(MUTATORS), "options come out in pipeline order"


def test_restricted_extends_baseline_and_answers_to_pss_restricted() -> None:
    prof = load_profile("restricted")
    assert prof.pss == "restricted"
    assert [f.split()[-1].rstrip(">") for f in prof.files] == ["baseline", "restricted"]
    assert set(prof.enabled_mutators()) == set(MUTATORS)
    assert prof.mutators["capabilities"].allow_add == ("NET_BIND_SERVICE",)
    assert not any(getattr(o, "enforce", False) for m, o in prof.mutators.items() if m != "namespaceLabels")


def test_baseline_adds_only_what_is_safe() -> None:
    run = twice(POD, "baseline")
    assert {c.mutator for c in run.changes} == {"privileged", "seccompProfile"}
    assert load_profile("baseline").mutators["namespaceLabels"].modes["enforce"] == "baseline"


def test_strict_enforces_every_mutator_that_can() -> None:
    prof = load_profile("strict")
    for mid, opts in prof.mutators.items():
        if hasattr(opts, "enforce"):
            assert opts.enforce is True, mid
    assert prof.mutators["resources"].limits["ephemeral-storage"] == "1Gi"


def test_a_user_profile_extends_a_builtin_one(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(
        "extends: restricted\nmutators:\n  runAsUser: {runAsUser: 20000}\n  resources: {enabled: false}\n"
    )
    prof = load_profile(str(tmp_path / "mine.yaml"))
    assert prof.mutators["runAsUser"].run_as_user == 20000 and prof.mutators["runAsUser"].fs_group == 10001
    run = mutate(POD, prof)
    assert pod_spec(run)["securityContext"]["runAsUser"] == 20000
    assert "resources" not in pod_spec(run)["containers"][0]


@pytest.mark.parametrize(
    "body, message",
    [
        ("mutators:\n  privileged: {enforc: true}\n", "mutators.privileged.enforc: unknown option"),
        ("mutators:\n  noSuchThing: {enabled: true}\n", "mutators.noSuchThing: unknown mutator"),
        ("mutators:\n  runAsUser: {runAsUser: 'root'}\n", "mutators.runAsUser.runAsUser: expected int"),
        ("mutators:\n  capabilities: {allowAdd: NET_ADMIN}\n", "mutators.capabilities.allowAdd: expected list"),
        ("mutator:\n  privileged: {}\n", "mutator: unknown key"),
        ("pss: strictest\n", "pss: must be one of"),
    ],
)
def test_a_bad_profile_names_the_key_and_the_file(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("extends: restricted\n" + body)
    with pytest.raises(ProfileError) as err:
        load_profile(str(path))
    assert message in str(err.value) and err.value.file == str(path)


def test_an_unknown_builtin_profile_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match="restricted"):
        load_profile("restrictive")


def test_the_mutator_map_names_every_mutator() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "mutators.md").read_text(encoding="utf-8")
    missing = [m for m in MUTATORS if f"| `{m}` |" not in doc]
    assert not missing, f"docs/mutators.md lacks {missing}"
