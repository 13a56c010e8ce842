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
