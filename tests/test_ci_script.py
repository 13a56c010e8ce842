"""`.ci/run` says what it ran: without the third-party corpus it fails at once instead of quietly running a
fifth of the suite (issue 21, item 7)."""

from __future__ import annotations

import os
import subprocess

from tests.integration_helpers import REPO


def test_ci_run_fails_without_the_corpus(tmp_path: str) -> None:
    env = dict(os.environ, KHARDEN_CORPUS=os.path.join(str(tmp_path), "no-corpus-here"))
    run = subprocess.run(["bash", os.path.join(REPO, ".ci", "run")], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode != 0
    assert "corpus is missing" in run.stderr


def _pytest_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("python -m pytest")]


def test_ci_run_runs_the_readmes_test_command() -> None:
    """README promises `.ci/run` runs exactly its test command: the same pytest line (with its workers) in both."""
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as readme:
        documented = _pytest_lines(readme.read())
    with open(os.path.join(REPO, ".ci", "run"), encoding="utf-8") as script:
        ran = _pytest_lines(script.read())
    assert len(documented) == 1 and ran == documented, (documented, ran)
    assert "-n auto" in ran[0]  # pytest-xdist: the suite on every core
