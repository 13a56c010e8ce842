"""--in-place is atomic per file: wholly old or wholly new, mode and symlinks kept, no stray temporary files."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kharden.tree import write
from kharden.errors import KhardenError
from kharden.tree.write import TEMP_PATTERN, sweep_stale_temps, write_atomic
from tests.conftest import DEPLOYMENT

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_sweep_memory() -> None:
    write._swept.clear()  # each test starts as a new process would


def temps(directory: Path) -> list[str]:
    return [p.name for p in directory.iterdir() if ".kharden-" in p.name]


def test_writes_exact_bytes_crlf_and_bom(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_bytes(b"old\n")
    assert write_atomic(str(target), "a: 1\r\nb: caf\u00e9\r\n") is True
    assert target.read_bytes() == b"a: 1\r\nb: caf\xc3\xa9\r\n"
    write_atomic(str(target), "a: 2\n", bom=True)
    assert target.read_bytes() == b"\xef\xbb\xbfa: 2\n"
    assert temps(tmp_path) == []


def test_unchanged_content_is_not_rewritten(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("a: 1\n")
    before = os.stat(target)
    assert write_atomic(str(target), "a: 1\n") is False
    after = os.stat(target)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644, 0o755, 0o2775])
def test_mode_bits_are_kept(tmp_path: Path, mode: int) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("a: 1\n")
    os.chmod(target, mode)
    write_atomic(str(target), "a: 2\n")
    assert stat.S_IMODE(os.stat(target).st_mode) == mode and target.read_text() == "a: 2\n"


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "new.yaml"), "a: 1\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.yaml").st_mode) == 0o640  # not mkstemp's 0600


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing owners needs root")
def test_owner_is_kept_where_permitted(tmp_path: Path) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("a: 1\n")
    os.chown(target, 4321, 8765)
    write_atomic(str(target), "a: 2\n")
    st = os.stat(target)
    assert (st.st_uid, st.st_gid) == (4321, 8765)


def test_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    real = shared / "deploy.yaml"
    real.write_text("a: 1\n")
    os.chmod(real, 0o640)
    work = tmp_path / "work"
    work.mkdir()
    hop = work / "hop.yaml"
    hop.symlink_to(os.path.relpath(real, work))  # relative link
    link = work / "deploy.yaml"
    link.symlink_to("hop.yaml")  # a chain of two links
    write_atomic(str(link), "a: 2\n")
    assert link.is_symlink() and os.readlink(link) == "hop.yaml" and hop.is_symlink()
    assert real.read_text() == "a: 2\n" and stat.S_IMODE(os.stat(real).st_mode) == 0o640
    assert temps(shared) == [] and temps(work) == []


@pytest.mark.parametrize("failing", ["replace", "fsync", "fchmod"])
def test_crash_before_rename_keeps_original_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    target = tmp_path / "m.yaml"
    target.write_text("original\n")

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("simulated crash")  # BaseException: the cleanup must still run

    monkeypatch.setattr(os, failing, crash)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(str(target), "new\n")
    monkeypatch.undo()
    assert target.read_text() == "original\n" and temps(tmp_path) == []


def test_unwritable_directory_is_a_kharden_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As root a read-only directory is writable anyway, so the refusal is simulated where it would happen."""
    target = tmp_path / "m.yaml"
    target.write_text("original\n")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(write.os, "open", refuse)
    with pytest.raises(KhardenError, match="cannot write: Permission denied") as info:
        write_atomic(str(target), "new\n")
    assert info.value.file == str(target) and target.read_text() == "original\n"


def test_write_files_makes_each_directory_and_writes_through_a_linked_one(tmp_path: Path) -> None:
    """`fix -o DIR`: missing directories are made, a directory that is a link is written into where it points, and
    each file is the exact text, with no temporary file left."""
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "linked").symlink_to(real)
    texts = {str(tmp_path / "out" / "a" / "b" / f"{i}.yaml"): f"i: {i}\n" for i in range(3)}
    texts[str(tmp_path / "out" / "linked" / "x.yaml")] = "x: 1\n"
    write.write_files(texts, durable=False, make_dirs=True)
    assert all(Path(p).read_text() == t for p, t in texts.items())
    assert (real / "x.yaml").read_text() == "x: 1\n" and (tmp_path / "out" / "linked").is_symlink()
    assert temps(tmp_path / "out" / "a" / "b") == [] and temps(real) == []


def test_write_files_refuses_a_missing_directory_without_make_dirs(tmp_path: Path) -> None:
    with pytest.raises(KhardenError, match="cannot write") as info:
        write.write_files({str(tmp_path / "nowhere" / "m.yaml"): "a: 1\n"}, durable=True)
    assert info.value.file == str(tmp_path / "nowhere" / "m.yaml")


def test_only_regular_files_are_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(KhardenError, match="not a regular file"):
        write_atomic(str(fifo), "a: 1\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and temps(tmp_path) == []


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_sweep_removes_only_kharden_temps_of_dead_runs(tmp_path: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        stale = tmp_path / f".m.yaml.kharden-{dead_pid()}-ab12cd_3.tmp"
        running = tmp_path / f".m.yaml.kharden-{live.pid}-zz99yy00.tmp"
        others = [".m.yaml.tmp", "m.yaml.kharden-1-abcdefgh.tmp", ".m.yaml.kharden-x-abcdefgh.tmp", "m.yaml"]
        for p in [stale, running, *(tmp_path / o for o in others)]:
            p.write_text("x")
        (tmp_path / f".d.kharden-{dead_pid()}-abcdefgh.tmp").mkdir()  # not a regular file: kept
        assert sweep_stale_temps(str(tmp_path)) == [str(stale)]
        assert not stale.exists() and running.exists() and all((tmp_path / o).exists() for o in others)
    finally:
        live.kill()
        live.wait()


def test_first_write_in_a_directory_sweeps_it(tmp_path: Path) -> None:
    stale = tmp_path / f".old.yaml.kharden-{dead_pid()}-abcdefgh.tmp"
    stale.write_text("half a fi")
    write_atomic(str(tmp_path / "m.yaml"), "a: 1\n")
    assert not stale.exists()


def test_temp_names_match_the_sweep_pattern(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(os.path.basename(src)), real_replace(src, dst)))
    write_atomic(str(tmp_path / "deploy.yaml"), "a: 1\n")
    assert len(seen) == 1 and TEMP_PATTERN.match(seen[0]) and seen[0].startswith(".deploy.yaml.kharden-")


# -- kill -9 in the middle of a run over many files --------------------------------------------------------------
OLD = "# a comment that must survive\n" + DEPLOYMENT
# The writer stops itself at the worst moment: after a third of the files were renamed into place, with the next
# one's temporary file written and synced but not yet renamed. It says so on stderr and sleeps until it is killed,
# so the kill lands at that moment every time (polling for a temporary file raced with its rename: the file could
# be renamed between the look and the kill). KHARDEN_TEST_PAUSE_AT=-1: never stop.
PAUSE = """\
import os, sys, time
_replace, _done, _at = os.replace, [0], int(os.environ.get("KHARDEN_TEST_PAUSE_AT", "-1"))
def _replace_or_pause(src, dst):
    if _done[0] == _at:
        sys.stderr.write("kharden-test: paused\\n")
        sys.stderr.flush()
        time.sleep(3600)
    _replace(src, dst)
    _done[0] += 1
os.replace = _replace_or_pause
"""
# A driver that writes like `fix --in-place` does: every new text computed first, then one write_atomic per file.
DRIVER = PAUSE + """\
from kharden.tree.write import write_atomic
new = sys.stdin.read()
for path in sys.argv[1:]:
    write_atomic(path, new)
"""
# The real CLI, with the same pause.
CLI = PAUSE + """\
import runpy
sys.argv = ["kharden"] + sys.argv[1:]
runpy.run_module("kharden", run_name="__main__")
"""


def make_files(directory: Path, count: int) -> list[Path]:
    paths = [directory / f"deploy-{i:03}.yaml" for i in range(count)]
    for p in paths:
        p.write_text(OLD)
    return paths


def kill_mid_run(argv: list[str], paths: list[Path], old: str, stdin: str = "") -> int:
    """Run the writer until it pauses with a third of the files new and a temporary file present; SIGKILL it.

    Killing while a temporary file exists is the worst moment: the next run must sweep it. Returns how many
    files were new at the kill.
    """
    env = dict(os.environ, KHARDEN_TEST_PAUSE_AT=str(len(paths) // 3))
    proc = subprocess.Popen(argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdin is not None and proc.stderr is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    said = []
    for line in proc.stderr:  # ends when the writer exits without pausing: the assertion below says so
        said.append(line)
        if line == "kharden-test: paused\n":
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"finished before the kill: {''.join(said)}"
    assert temps(paths[0].parent), "the kill was meant to leave a temporary file behind"
    return sum(p.read_text() != old for p in paths)


def assert_wholly_old_or_new(paths: list[Path], old: str, new: str) -> None:
    for p in paths:
        text = p.read_text()
        assert text in (old, new), f"{p.name} is neither the old nor the new text"
        assert list(yaml.safe_load_all(text)) == list(yaml.safe_load_all(text == old and old or new))


def test_kill_9_mid_run_leaves_each_file_old_or_new_driver(tmp_path: Path) -> None:
    paths = make_files(tmp_path, 300)
    new = OLD + "        securityContext:\n          allowPrivilegeEscalation: false\n"
    changed = kill_mid_run([sys.executable, "-c", DRIVER, *map(str, paths)], paths, OLD, stdin=new)
    assert changed == len(paths) // 3
    assert_wholly_old_or_new(paths, OLD, new)
    rerun = subprocess.run([sys.executable, "-c", DRIVER, *map(str, paths)],
                           cwd=REPO, input=new, text=True, capture_output=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert all(p.read_text() == new for p in paths) and temps(tmp_path) == []


# Generated objects (NetworkPolicies, RBAC) go to a file of their own; here only the rewrite of each file counts.
CLI_OPTIONS = ["--profile", "restricted", "--no-generate", "--quiet"]


def cli_new_text(tmp_path: Path) -> str:
    one = tmp_path / "probe" / "deploy.yaml"
    one.parent.mkdir()
    one.write_text(OLD)
    run = subprocess.run([sys.executable, "-m", "kharden", "fix", *CLI_OPTIONS, str(one)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    if run.returncode != 0 or run.stdout == OLD:
        pytest.skip(f"`kharden fix --profile restricted` does not harden a Deployment yet: {run.stderr.strip()[-200:]}")
    return run.stdout


def test_kill_9_mid_run_leaves_each_file_old_or_new_cli(tmp_path: Path) -> None:
    new = cli_new_text(tmp_path)
    work = tmp_path / "manifests"
    work.mkdir()
    paths = make_files(work, 300)
    argv = [sys.executable, "-c", CLI, "fix", "--in-place", *CLI_OPTIONS, str(work)]
    changed = kill_mid_run(argv, paths, OLD)
    assert changed == len(paths) // 3
    assert_wholly_old_or_new(paths, OLD, new)
    rerun = subprocess.run([sys.executable, "-m", "kharden", "fix", "--in-place", *CLI_OPTIONS, str(work)],
                           cwd=REPO, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert all(p.read_text() == new for p in paths) and temps(work) == []
