"""`fix` and `check` over discovered files: each file screened on its own (kharden.tree.screen), the manifests
run through the pipeline together, the skipped and broken files handed back for the edge to report."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Any, Iterator

import click

from kharden.errors import KhardenError
from kharden.model import Finding
from kharden.profile import Profile
from kharden.tree.discover import Found
from kharden.tree.screen import Screened, screen


@contextmanager
def _bar(found: Found) -> Iterator[Any]:
    """The files, with a progress bar on a terminal for long runs (kharden.progress)."""
    from kharden.progress import wanted

    if not wanted(len(found.paths), sys.stderr):
        yield found.paths
        return
    with click.progressbar(found.paths, label="kharden: reading", file=sys.stderr, show_pos=True) as bar:
        yield bar


def fix_tree(found: Found, profile: Profile, **kw: Any) -> tuple[Any, Screened]:
    """(FixOutcome of the manifests, what was screened). Broken files are in `screened.errors`, not raised."""
    from kharden import run

    kw.pop("jobs", None)  # accepted and ignored (kharden.cli)
    with _bar(found) as paths:
        screened = screen(found, profile.pod_templates, paths=paths)
    return run.fix_sources(screened.sources, profile, **kw), screened


def check_tree(found: Found, *, pss: str | None, version: str, profile: Profile | None,
               jobs: int = 1) -> tuple[list[Finding], list[KhardenError], Screened]:
    """Findings of every manifest (a broken object does not hide the others in its file), errors in input order,
    and the screening."""
    from kharden import run
    from kharden.pipeline import Request

    screened = screen(found, profile.pod_templates if profile else None, validate=False)
    result = run.execute(Request(screened.sources, profile, mode="check", pss=pss, pss_version=version))
    unread = {id(e): e for e in screened.errors}
    errors = list(unread.values()) + [e for s in screened.sources for e in result.errors.get(s.path, [])]
    return result.findings, errors, screened
