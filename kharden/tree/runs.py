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


def fix_tree(found: Found, profile: Profile, *, jobs: int = 1, **kw: Any) -> tuple[Any, Screened]:
    """(FixOutcome of the manifests, what was screened). Broken files are in `screened.errors`, not raised."""
    from kharden import run

    with _bar(found) as paths:
        screened = screen(found, profile.pod_templates, paths=paths)
    if jobs != 1 and len(screened.sources) > 1:  # the workers read their files again: fast, and in parallel
        return run.fix([s.path for s in screened.sources], profile, jobs=jobs, **kw), screened
    return run.fix_sources(screened.sources, profile, **kw), screened


def check_tree(found: Found, *, pss: str | None, version: str, profile: Profile | None,
               jobs: int = 1) -> tuple[list[Finding], list[KhardenError], Screened]:
    """Findings of every manifest (a broken object does not hide the others in its file), errors, screening."""
    from kharden.pipeline import check_groups
    from kharden.read.validate import split_objects

    templates = profile.pod_templates if profile else None
    screened = screen(found, templates, validate=False)
    errors: list[KhardenError] = list(screened.errors)
    if jobs != 1 and "-" not in found.paths and len(screened.sources) > 1:
        from kharden.parallel import check_files

        findings, more = check_files([s.path for s in screened.sources], pss=pss, version=version, profile=profile,
                                     jobs=jobs)
        return findings, errors + more, screened
    objects = []
    for source in screened.sources:
        good, problems = split_objects(source, pod_templates=templates)
        objects += good
        errors += problems
    groups = check_groups(objects, pss=pss, version=version, profile=profile)
    return [f for group in groups for f in group], errors, screened
