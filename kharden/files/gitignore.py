"""Which paths `.gitignore` leaves out of a directory run, with git or without it.

With git on PATH and the directory in a work tree, git itself is asked (`git check-ignore`): its answer is
exactly git's (`.git/info/exclude`, the global excludes file, and a tracked file is never ignored). Without git,
or outside a work tree (a tarball, a vendored copy, a CI image without git), the `.gitignore` files are read:

    ignored(root, paths)   # root: the directory walked; paths: the files found under it

Each directory's `.gitignore` applies to the paths below it, with gitignore semantics: `!` negation, a `/` at the
start or in the middle anchors to that directory, a trailing `/` matches directories only, `**` spans directories,
and a deeper file's match overrides a shallower one's (within a file the last match wins). An ignored directory is
not walked, so a file in it cannot be re-included, as in git. The `.gitignore` files of the directories above the
root count too, up to the work tree's top (the directory holding `.git`), and `.git/info/exclude` with them.
Tracked files cannot be told without git: a file matched by a pattern is left out even if it is committed.

The patterns are compiled by `pathspec` (GitIgnoreSpec), the gitignore matcher black uses: escapes, character
classes, trailing spaces and the `**` rules are git's, which a few regexes of our own would get subtly wrong.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pathspec

IGNORE_FILE = ".gitignore"


def git_ignored(root: str, paths: list[str]) -> list[str] | None:
    """The paths git ignores, asked of git itself; None when git is absent or `root` is in no work tree."""
    git = shutil.which("git")
    if not git:
        return None
    if not paths:
        return []
    try:
        done = subprocess.run([git, "-C", root, "check-ignore", "-z", "--stdin"],
                              input="\0".join(os.path.relpath(p, root) for p in paths) + "\0",
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode not in (0, 1):  # 128: not a git work tree
        return None
    return [os.path.join(root, p) for p in done.stdout.split("\0") if p]


def ignored(root: str, paths: list[str]) -> list[str]:
    """The paths under `root` that .gitignore leaves out: git's answer when git can give one, else the files'."""
    answer = git_ignored(root, paths)
    if answer is not None:
        return answer
    rules = Rules(root)
    return [p for p in paths if rules.ignored(p)]


class Rules:
    """The `.gitignore` rules that apply under `root`, read from the files (no git)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.top = _work_tree_top(self.root)
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}
        self._dirs: dict[str, bool] = {}

    def ignored(self, path: str) -> bool:
        """Whether a file is left out: it, or a directory it is in, is ignored (git does not look inside an
        ignored directory, so a `!` pattern cannot bring a file in it back)."""
        full = os.path.abspath(path)
        return self._in_ignored_dir(os.path.dirname(full)) or self._matches(full, False)

    def _in_ignored_dir(self, directory: str) -> bool:
        if directory in self._dirs:
            return self._dirs[directory]
        inside = directory.startswith(self.root + os.sep)
        answer = inside and (self._in_ignored_dir(os.path.dirname(directory)) or self._matches(directory, True))
        self._dirs[directory] = answer
        return answer

    def _matches(self, full: str, is_dir: bool) -> bool:
        """The deepest `.gitignore` with a match for the path decides (from the path's own directory up to the
        work tree's top, or to `root` outside a work tree)."""
        for base in reversed(self._bases(os.path.dirname(full))):
            spec = self._spec(base)
            if spec is None:
                continue
            rel = os.path.relpath(full, base).replace(os.sep, "/") + ("/" if is_dir else "")
            include = spec.check_file(rel).include
            if include is not None:
                return include
        return False

    def _bases(self, directory: str) -> list[str]:
        """The directories whose `.gitignore` can speak about a path in `directory`, top first."""
        start = self.top or self.root
        out = [directory]
        while directory != start and directory.startswith(start + os.sep):
            directory = os.path.dirname(directory)
            out.append(directory)
        return out[::-1]

    def _spec(self, directory: str) -> pathspec.GitIgnoreSpec | None:
        if directory not in self._specs:
            lines: list[str] = []
            if directory == self.top:  # the repository's own excludes, below its top .gitignore in precedence
                lines += _read(os.path.join(directory, ".git", "info", "exclude"))
            lines += _read(os.path.join(directory, IGNORE_FILE))
            self._specs[directory] = pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
        return self._specs[directory]


def _work_tree_top(root: str) -> str | None:
    """The nearest directory at or above `root` that holds `.git`, or None."""
    here = root
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _read(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return []
