""".gitignore without git (issue 21, item 1): a directory run leaves out what .gitignore ignores where git is absent
or the tree is no repository, with git's semantics (negation, anchoring, directory-only, `**`, nested files, no
re-inclusion inside an ignored directory). Where git runs it is still git that answers; the file-reading rules
are held equal to git's own answers on the same tree."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import DEPLOYMENT
from tests.integration_helpers import kharden, tool
from kharden.files.gitignore import Rules, git_ignored, ignored

IGNORES = {
    ".gitignore": "build/\n*.tmp.yaml\n/top-only.yaml\n!keep.tmp.yaml\ndocs/**/draft.yaml\nbuild/keep.yaml\n"
                  "# a comment\n\\#hash.yaml\nspaced.yaml   \n",
    "sub/.gitignore": "!build/\nlocal.yaml\n/anchored.yaml\nnested/\n",
}
FILES = [
    "a.yaml", "x.tmp.yaml", "keep.tmp.yaml", "top-only.yaml", "sub/top-only.yaml", "build/deploy.yaml",
    "build/keep.yaml", "sub/build/deploy.yaml", "docs/draft.yaml", "docs/a/b/draft.yaml", "docs/ok.yaml",
    "sub/local.yaml", "sub/deeper/local.yaml", "sub/anchored.yaml", "sub/deeper/anchored.yaml",
    "sub/nested/x.yaml", "nested/x.yaml", "#hash.yaml", "spaced.yaml",
]
EXPECTED = {  # what git says (held by test_rules_agree_with_git where git runs)
    "x.tmp.yaml", "top-only.yaml", "build/deploy.yaml", "build/keep.yaml", "docs/draft.yaml",
    "docs/a/b/draft.yaml", "sub/local.yaml", "sub/deeper/local.yaml", "sub/anchored.yaml", "sub/nested/x.yaml",
    "#hash.yaml", "spaced.yaml",
}


def _make(root: str) -> list[str]:
    for rel, text in IGNORES.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)
    paths = []
    for rel in FILES:
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(DEPLOYMENT)
        paths.append(path)
    return paths


def _rel(root: str, paths: list[str]) -> set[str]:
    return {os.path.relpath(p, root) for p in paths}


def test_rules_read_from_the_files(tmp_path) -> None:
    root = str(tmp_path / "tree")  # no repository: the files alone decide
    paths = _make(root)
    rules = Rules(root)
    assert _rel(root, [p for p in paths if rules.ignored(p)]) == EXPECTED


def test_rules_agree_with_git(tmp_path) -> None:
    git = tool("git")
    root = str(tmp_path / "repo")
    paths = _make(root)
    subprocess.run([git, "init", "-q", root], check=True)
    with open(os.path.join(root, ".git", "info", "exclude"), "a") as f:
        f.write("a.yaml\n")
    by_git = git_ignored(root, paths)
    assert by_git is not None
    assert _rel(root, by_git) == EXPECTED | {"a.yaml"}
    assert _rel(root, [p for p in paths if Rules(root).ignored(p)]) == EXPECTED | {"a.yaml"}


def test_a_subdirectory_run_reads_the_ignore_files_above_it_up_to_the_work_tree(tmp_path) -> None:
    root = str(tmp_path / "repo")
    paths = _make(root)
    os.makedirs(os.path.join(root, ".git"))  # a work tree, and no git to ask
    sub = os.path.join(root, "sub")
    under = [p for p in paths if p.startswith(sub + os.sep)]
    assert _rel(sub, [p for p in under if Rules(sub).ignored(p)]) == {
        "local.yaml", "deeper/local.yaml", "anchored.yaml", "nested/x.yaml"}


def test_without_git_on_path_ignored(tmp_path, monkeypatch) -> None:
    root = str(tmp_path / "tree")
    paths = _make(root)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert _rel(root, ignored(root, paths)) == EXPECTED


def test_a_directory_run_without_git_leaves_ignored_files_out(tmp_path) -> None:
    root = str(tmp_path / "tree")
    _make(root)
    with open(os.path.join(root, "build", "deploy.yaml"), "a") as f:
        f.write("metadata: {name: again}\n")  # a duplicate key: read, it would fail the run
    bin_dir = tmp_path / "bin"  # a PATH with python and no git
    bin_dir.mkdir()
    import sys

    os.symlink(sys.executable, bin_dir / "python3")
    done = kharden("check", "-v", root, env={"PATH": str(bin_dir)})
    assert done.returncode == 1, done.stderr
    assert "duplicate key" not in done.stderr, done.stderr
    assert os.path.join(root, "build", "deploy.yaml") + ":" not in done.stdout
    assert os.path.join(root, "a.yaml") + ":" in done.stdout and "x.tmp.yaml" not in done.stdout
