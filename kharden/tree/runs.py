"""`fix` and `check` over discovered files: each file screened on its own (kharden.tree.screen), the manifests
run through the pipeline together, the skipped and broken files handed back for the edge to report."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import click

from kharden.errors import KhardenError, UsageError
from kharden.model import Finding
from kharden.profile import Profile
from kharden.tree import generated as gen, naming
from kharden.files.discover import Found, discover
from kharden.tree.generated import Earlier
from kharden.tree.outputs import mirror
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


@dataclass
class Plan:
    """What a `fix` reads and where it writes, settled before any file is read."""

    found: Found
    targets: dict[str, str] | None = None  # -o: each file's mirrored path
    generated_file: str | None = None  # -i/-o: where the generated objects go
    earlier: Earlier | None = None  # -i/-o: an earlier run's generated objects, kharden's own


def plan(args: list[str], exclude: tuple[str, ...], *, in_place: bool, output_dir: str | None,
         generated_file: str | None) -> Plan:
    """Discover the files; with -o mirror them (a collision is a UsageError here, before anything is read); with
    -i/-o find the generated file of an earlier run: kharden's own is kept out of the inputs and regenerated, one
    someone wrote objects into is input as before (kept, appended to)."""
    from kharden import run

    p = Plan(discover(args, exclude))
    if not (in_place or output_dir):
        return p
    p.generated_file = gen.target(args, output_dir, generated_file)
    candidates = [p.generated_file] + ([gen.target(args, None, generated_file)] if output_dir else [])
    p.earlier = gen.earlier(candidates)
    for c in candidates:
        if gen.earlier([c]) is not None:
            gen.drop(p.found, c)
    if in_place and p.earlier is None:
        known = {os.path.realpath(f) for f in p.found.paths if f != "-"}
        p.found.files += [(f, f) for f in run.earlier_generated(args, generated_file) if os.path.realpath(f) not in known]
    if output_dir:
        p.targets = mirror(p.found, output_dir)
        clash = [f for f, t in p.targets.items() if os.path.normpath(t) == os.path.normpath(p.generated_file)]
        if clash:
            raise UsageError(f"--output-dir: {clash[0]} would be written to {p.generated_file}, where the generated "
                             "objects go; name another place with --generated-file")
    return p


def fix_tree(p: Plan | Found, profile: Profile, **kw: Any) -> tuple[Any, Screened]:
    """(FixOutcome of the manifests, what was screened). Broken files are in `screened.errors`, not raised."""
    from kharden import run

    p = p if isinstance(p, Plan) else Plan(p)
    kw.pop("jobs", None)  # accepted and ignored (kharden.cli)
    with _bar(p.found) as paths:
        screened = screen(p.found, profile.pod_templates, paths=paths)
    outcome = run.fix_sources(screened.sources, profile, **kw)
    _name_files(outcome.result.generated, [s.path for s in screened.sources] + [kw.get("audit_log") or "-"], p)
    if p.earlier is not None:
        outcome = gen.Regenerated(outcome.result, earlier=p.earlier)
    return outcome, screened


def _name_files(generated: list[dict[str, Any]], paths: list[str], p: Plan) -> None:
    """The files the generated objects name, relative to where those objects are written (kharden.tree.naming)."""
    base = os.path.dirname(p.generated_file) if p.generated_file else os.curdir
    naming.rename(generated, naming.relative_names(paths, base or os.curdir, p.targets))


def check_tree(found: Found, *, pss: str | None, version: str, profile: Profile | None, rbac: bool = False,
               jobs: int = 1, kube_version: str | None = None) -> tuple[list[Finding], list[KhardenError], Screened]:
    """Findings of every manifest (a broken object does not hide the others in its file), errors in input order,
    and the screening."""
    from kharden import run
    from kharden.pipeline import Request

    screened = screen(found, profile.pod_templates if profile else None, validate=False)
    result = run.execute(Request(screened.sources, profile, mode="check", pss=pss, pss_version=version, rbac=rbac,
                                 kube_version=kube_version))
    unread = {id(e): e for e in screened.errors}
    errors = list(unread.values()) + [e for s in screened.sources for e in result.errors.get(s.path, [])]
    return result.findings, errors, screened
