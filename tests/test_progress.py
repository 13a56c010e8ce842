"""Progress bar: on a terminal for long runs, and not one byte of it when stderr is piped."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from kharden.progress import MIN_FILES
from tests.integration_helpers import APP, REPO, kharden


def _many(tmp_path: str) -> str:
    text = open(os.path.join(APP, "workloads.yaml")).read()
    for i in range(MIN_FILES + 5):
        with open(os.path.join(tmp_path, f"app-{i:02}.yaml"), "w") as f:
            f.write(text)
    return tmp_path


def test_bar_on_a_terminal(tmp_path: str) -> None:
    directory = _many(str(tmp_path))
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "kharden", "fix", "-q", directory], stdout=subprocess.DEVNULL,
                            stderr=child, env={**os.environ, "PYTHONPATH": REPO})
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed: the child is done
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    assert b"kharden: reading" in seen and f"{MIN_FILES + 5}/{MIN_FILES + 5}".encode() in seen


def test_nothing_extra_when_piped(tmp_path: str) -> None:
    done = kharden("fix", "-q", _many(str(tmp_path)))
    assert done.returncode == 0 and done.stderr == ""
    assert "reading" not in kharden("fix", _many(str(tmp_path))).stderr


def test_python_m_kharden_and_version() -> None:
    done = kharden("--version")
    assert done.returncode == 0 and done.stdout.startswith("kharden, version ")


def test_shell_completion_script(tmp_path: str) -> None:
    script = os.path.join(str(tmp_path), "kharden")  # what the installed entry point looks like
    with open(script, "w") as f:
        f.write(f"#!{sys.executable}\nfrom kharden.cli import main\nmain()\n")
    os.chmod(script, 0o755)
    env = {**os.environ, "_KHARDEN_COMPLETE": "bash_source", "PYTHONPATH": REPO}
    done = subprocess.run([script], capture_output=True, text=True, env=env, timeout=60)
    assert "complete -o nosort -F _kharden_completion kharden" in done.stdout, done.stderr
    env = {**env, "_KHARDEN_COMPLETE": "bash_complete", "COMP_WORDS": "kharden kust", "COMP_CWORD": "1"}
    done = subprocess.run([script], capture_output=True, text=True, env=env, timeout=60)
    assert "kustomize-plugin" in done.stdout
