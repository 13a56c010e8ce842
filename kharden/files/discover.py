"""Which files a run reads: the arguments, directories walked, minus `.gitignore`d paths, `--exclude` globs,
hidden directories and Helm chart directories (reported, not read: a chart's templates are not manifests until
Helm renders them; kharden hardens the rendered output as a post-renderer).

Each file keeps the argument it was found under, so `-o DIR` can mirror the tree relative to it
(kharden.tree.outputs).
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field

from kharden.read.source import MANIFEST_SUFFIXES

CHART_FILE = "Chart.yaml"


@dataclass
class Found:
    files: list[tuple[str, str]] = field(default_factory=list)  # (file, the argument it was found under)
    charts: list[str] = field(default_factory=list)  # Helm chart directories met while walking
    excluded: list[str] = field(default_factory=list)  # files left out by --exclude or .gitignore

    @property
    def paths(self) -> list[str]:
        return [f for f, _ in self.files]


def discover(args: list[str], exclude: tuple[str, ...] = ()) -> Found:
    """The files of `args` in order (directories walked sorted), each once, where it first appears."""
    found = Found()
    seen: set[str] = set()
    for arg in args:
        if arg != "-" and os.path.isdir(arg):
            candidates = _walk(arg, exclude, found)
        elif arg != "-" and _excluded(arg, os.path.dirname(arg), exclude):
            found.excluded.append(arg)
            candidates = []
        else:
            candidates = [arg]
        for f in candidates:
            key = f if f == "-" else os.path.realpath(f)
            if key not in seen:
                seen.add(key)
                found.files.append((f, arg))
    return found


def _walk(root: str, exclude: tuple[str, ...], found: Found) -> list[str]:
    out: list[str] = []
    for here, dirs, files in os.walk(root):
        if CHART_FILE in files:  # a Helm chart: its templates are no manifests until rendered
            found.charts.append(here)
            dirs[:] = []
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not _excluded(os.path.join(here, d), root,
                                                                                     exclude))
        for f in files:
            path = os.path.join(here, f)
            if not f.endswith(MANIFEST_SUFFIXES):
                continue
            if _excluded(path, root, exclude):
                found.excluded.append(path)
            else:
                out.append(path)
    out.sort()
    ignored = set(git_ignored(root, out))
    found.excluded += [p for p in out if p in ignored]
    return [p for p in out if p not in ignored]


def _excluded(path: str, root: str, globs: tuple[str, ...]) -> bool:
    """A glob matches the path relative to its argument, the path as given, or any one of its names."""
    if not globs:
        return False
    rel = os.path.relpath(path, root) if root else path
    names = [rel, path, *rel.split(os.sep)]
    return any(fnmatch.fnmatch(n, g) or fnmatch.fnmatch(n, g.rstrip("/")) for g in globs for n in names)


def git_ignored(root: str, paths: list[str]) -> list[str]:
    """The paths .gitignore leaves out: git's own answer where git runs, else the .gitignore files read with
    gitignore semantics (kharden.files.gitignore)."""
    from kharden.files.gitignore import ignored

    return ignored(root, paths) if paths else []
