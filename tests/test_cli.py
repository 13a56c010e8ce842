"""The command line as users run it: the installed `kharden` entry point, exit codes, outputs."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonpatch
import pytest
import yaml
from click.testing import CliRunner

from kharden.cli import cli
from tests.conftest import CORPUS, REPO

POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web  # keep me\nspec:\n  containers:\n  - name: c\n    image: nginx\n"


def kharden(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("kharden")
    if exe is None:
        pytest.skip("the kharden entry point is not installed (pip install -e .)")
    return subprocess.run([exe, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_entry_point_fix_stdin_to_stdout() -> None:
    proc = kharden("fix", "--no-generate", "-", stdin=POD)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web  # keep me\n")
    assert "runAsNonRoot: true" in proc.stdout
    assert "object(s) changed" in proc.stderr


def test_version_and_python_dash_m() -> None:
    assert kharden("--version").stdout.startswith("kharden, version ")
    proc = subprocess.run([sys.executable, "-m", "kharden", "--version"], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0 and "kharden" in proc.stdout


def test_bad_input_exit_2_one_line_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nspec: [\n")
    proc = kharden("fix", str(bad))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and str(bad) in proc.stderr


def test_in_place_rewrites_only_changed_files(tmp_path: Path) -> None:
    changed, hardened = tmp_path / "a.yaml", tmp_path / "b.yaml"
    changed.write_text(POD)
    proc = kharden("fix", "--no-generate", str(changed))
    hardened.write_text(proc.stdout)
    before = hardened.stat().st_mtime_ns
    assert kharden("fix", "-i", "--no-generate", str(tmp_path)).returncode == 0
    assert changed.read_text() == proc.stdout
    assert hardened.stat().st_mtime_ns == before, "an unchanged file must not be rewritten"


def test_check_flag_exit_codes(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(POD)
    assert kharden("fix", "--check", "--no-generate", str(f)).returncode == 1
    f.write_text(kharden("fix", "--no-generate", str(f)).stdout)
    assert kharden("fix", "--check", "--no-generate", str(f)).returncode == 0


def test_diff_and_jsonpatch(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(POD)
    diff = kharden("fix", "--diff", "--no-generate", str(f)).stdout
    assert diff.startswith(f"--- a/{f}\n+++ b/{f}\n") and "+    securityContext:\n" in diff
    out = json.loads(kharden("fix", "--format", "jsonpatch", "--no-generate", str(f)).stdout)
    (entry,) = out["patches"]
    assert (entry["kind"], entry["name"]) == ("Pod", "web")
    fixed = yaml.safe_load(kharden("fix", "--no-generate", str(f)).stdout)
    assert jsonpatch.apply_patch(yaml.safe_load(POD), entry["patch"]) == fixed


def test_output_dir_keeps_layout(tmp_path: Path) -> None:
    src = tmp_path / "src" / "apps"
    src.mkdir(parents=True)
    (src / "p.yaml").write_text(POD)
    proc = kharden("fix", "--no-generate", "-o", str(tmp_path / "out"), "src", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # mirrored relative to the argument (issue 21): src/apps/p.yaml is apps/p.yaml under `src`
    assert "runAsNonRoot" in (tmp_path / "out" / "apps" / "p.yaml").read_text()
    assert (src / "p.yaml").read_text() == POD


def test_check_json_names_file_line_and_container(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text(POD)
    proc = kharden("check", "--pss", "restricted", "--format", "json", str(f))
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)
    ape = next(x for x in findings if x["rule"] == "pss.allowPrivilegeEscalation")
    assert (ape["file"], ape["object"], ape["container"]) == (str(f), "Pod/web", "c")
    assert ape["line"] == 7


def test_profiles_list_and_show() -> None:
    listing = kharden("profiles").stdout
    assert {"baseline", "restricted", "strict"} <= {line.split()[0] for line in listing.splitlines()}
    shown = yaml.safe_load(kharden("profiles", "restricted").stdout)
    assert shown["pss"] == "restricted" and shown["mutators"]["runAsNonRoot"]["enabled"] is True


def test_bad_profile_key_names_key_and_file(tmp_path: Path) -> None:
    prof = tmp_path / "p.yaml"
    prof.write_text("extends: restricted\nmutators:\n  resources:\n    limitz: {}\n")
    proc = kharden("fix", "--profile", str(prof), "-", stdin=POD)
    assert proc.returncode == 2
    assert "limitz" in proc.stderr and str(prof) in proc.stderr


FIXTURES = sorted((CORPUS / "pod-security-admission").glob("*/*/*/*.yaml")) if CORPUS.is_dir() else []


@pytest.mark.parametrize("path", FIXTURES, ids=[str(p.relative_to(CORPUS)) for p in FIXTURES])
def test_check_pss_agrees_with_every_official_fixture(path: Path) -> None:
    level, verdict = path.parts[-4], path.parts[-2]
    result = CliRunner().invoke(cli, ["check", "--pss", level, str(path)])
    assert result.exit_code == (0 if verdict == "pass" else 1), result.output


def test_in_place_keeps_and_extends_earlier_generated_objects(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(POD.replace("name: web  # keep me", "name: web\n  namespace: shop"))
    assert kharden("fix", "-i", "-q", str(app)).returncode == 0
    generated = tmp_path / "kharden-generated.yaml"
    first = generated.read_text()
    assert "kind: ServiceAccount" in first and "kind: NetworkPolicy" in first
    # A second run reads what it generated before: nothing changes, nothing is lost.
    again = kharden("fix", "-i", "-q", "--fail-on-change", str(app))
    assert again.returncode == 0 and generated.read_text() == first
    # A new workload's objects are appended; the earlier ones stay byte for byte.
    other = tmp_path / "other.yaml"
    other.write_text(POD.replace("name: web  # keep me", "name: api\n  namespace: shop"))
    assert kharden("fix", "-i", "-q", "--fail-on-change", str(app), str(other)).returncode == 1
    assert generated.read_text().startswith(first) and "name: api" in generated.read_text()
    # Kept by hand to end in a block scalar without a line break: the objects appended after it leave its value.
    generated.write_text(generated.read_text() + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n"
                         "data:\n  run.sh: |\n    echo hi")
    third = tmp_path / "third.yaml"
    third.write_text(POD.replace("name: web  # keep me", "name: db\n  namespace: shop"))
    assert kharden("fix", "-i", "-q", str(app), str(other), str(third)).returncode == 0
    docs = [d for d in yaml.safe_load_all(generated.read_text()) if d]
    assert "name: db" in generated.read_text()
    assert [d["data"]["run.sh"] for d in docs if d["kind"] == "ConfigMap"] == ["echo hi"]


def test_a_join_kharden_must_refuse_fails_the_run_before_any_file_is_written(tmp_path: Path) -> None:
    """The generated objects cannot follow this earlier file's last value (a kept block scalar ending in a blank
    line without a line break: no header keeps its value): exit 2, and the input is not half written."""
    app = tmp_path / "app.yaml"
    app.write_text(POD.replace("name: web  # keep me", "name: web\n  namespace: shop"))
    original = app.read_text()
    generated = tmp_path / "kharden-generated.yaml"
    kept = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s, namespace: shop}\ndata:\n  run.sh: |+\n    echo hi\n  "
    generated.write_text(kept)
    proc = kharden("fix", "-i", "-q", str(app))
    assert proc.returncode == 2 and "block scalar" in proc.stderr, proc.stderr
    assert app.read_text() == original and generated.read_text() == kept


def test_a_block_scalar_ending_a_file_without_newline_is_not_changed_by_what_follows() -> None:
    from kharden.read import parse_text
    from kharden.run import fix_sources

    last = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  script: |\n    echo hi"
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: {a: b}"
    other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n"
    alone = fix_sources([parse_text(last, "a.yaml")], "restricted", generate=False)
    assert alone.stream() == last  # on its own: byte for byte, no newline added
    joined = fix_sources([parse_text(plain, "p.yaml"), parse_text(other, "o.yaml")], "restricted", generate=False)
    assert joined.stream() == plain + "\n---\n" + other
    # Followed by more documents, the scalar's header strips instead of clipping: the same value, not "echo hi\n".
    for header, stripped in (("|", "|-"), ("|+", "|-"), (">2+", ">2-"), ("|-2", "|-2"), ("!!str |", "!!str |-")):
        text = last.replace("script: |", f"script: {header} # why")
        both = fix_sources([parse_text(text, "a.yaml"), parse_text(other, "o.yaml")], "restricted", generate=False)
        out = both.stream()
        assert out == text.replace(f"script: {header}", f"script: {stripped}") + "\n---\n" + other
        assert [d["data"]["script"] for d in yaml.safe_load_all(out) if "data" in d] == ["echo hi"]
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    note: |\n      hi\n"
           "spec:\n  containers: [{name: c, image: i}]\nstatus:\n  message: |\n    h")  # ends in a block scalar
    with_generated = fix_sources([parse_text(pod, "p.yaml")], "restricted").stream()
    assert "kind: ServiceAccount" in with_generated
    assert [d["status"]["message"] for d in yaml.safe_load_all(with_generated) if d["kind"] == "Pod"] == ["h"]


def test_generate_prints_only_the_asked_for_objects(tmp_path: Path) -> None:
    app = tmp_path / "app.yaml"
    app.write_text(POD.replace("name: web  # keep me", "name: web\n  namespace: shop"))
    kinds = {
        what: {d["kind"] for d in yaml.safe_load_all(kharden("generate", what, str(app)).stdout) if d}
        for what in ("networkpolicies", "rbac", "all")
    }
    assert kinds["networkpolicies"] == {"NetworkPolicy"}
    assert kinds["rbac"] == {"ServiceAccount"}
    assert kinds["all"] == {"NetworkPolicy", "ServiceAccount"}


def test_check_reports_broken_objects_and_checks_the_rest(tmp_path: Path) -> None:
    f = tmp_path / "mixed.yaml"
    f.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: {a: 1}\n---\n" + POD)
    proc = kharden("check", "--pss", "restricted", str(f))
    assert proc.returncode == 2
    assert f"{f}:5:15" in proc.stderr and "spec.containers must be a list" in proc.stderr
    assert "Pod/web" in proc.stdout and "Pod/bad" not in proc.stdout


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_named_twice_is_hardened_once(tmp_path: Path, jobs: str) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "pod.yaml").write_text(POD)
    (app / "other.yaml").write_text(POD.replace("name: web", "name: api"))
    once = kharden("fix", "-j", jobs, "app", cwd=tmp_path)
    twice = kharden("fix", "-j", jobs, "app/pod.yaml", "app", "./app/pod.yaml", cwd=tmp_path)
    assert once.returncode == twice.returncode == 0, twice.stderr
    assert twice.stdout.count("name: web  # keep me") == 1
    assert sorted(twice.stdout.split("---\n")) == sorted(once.stdout.split("---\n"))
    checked = kharden("check", "-j", jobs, "--format", "json", "app", "app/pod.yaml", cwd=tmp_path)
    assert checked.stdout == kharden("check", "-j", jobs, "--format", "json", "app", cwd=tmp_path).stdout
