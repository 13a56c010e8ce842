"""`kharden check`: report violations with file and line, as text, JSON, SARIF or markdown."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from kharden.cli.options import EXIT_ERROR, jobs_option, kube_version_option, profile_option, tree_options


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--pss", type=click.Choice(["baseline", "restricted"]), help="Check exactly the PSS controls of a level.")
@click.option("--pss-version", default="latest", show_default=True, help="PSS policy version, e.g. 1.25.")
@click.option("--rbac", is_flag=True, help="Also check RBAC (wildcards, escalation, secrets); always with --profile.")
@profile_option(default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown", "github"]), default="text",
              show_default=True, help="sarif: for GitHub code scanning; markdown: for a PR comment or job summary; "
              "github: annotations (workflow commands) at the offending lines.")
@kube_version_option()
@jobs_option()
@tree_options
def check(paths: tuple[str, ...], pss: str | None, pss_version: str, rbac: bool, profile: str | None, fmt: str,
          kube_version: str | None, jobs: int, exclude: tuple[str, ...], verbose: bool) -> None:
    """Report violations with file and line. Exit 0 clean, 1 violations, 2 error."""
    from kharden.profile import load_profile
    from kharden.tree import discover, runs, screen

    if not pss and not profile:
        pss = "restricted"
    prof = load_profile(profile).with_kube_version(kube_version) if profile else None
    findings, errors, screened = runs.check_tree(discover.discover(list(paths), exclude), pss=pss,
                                                 version=pss_version, profile=prof, rbac=rbac, jobs=jobs,
                                                 kube_version=None if prof else kube_version)
    click.echo(screen.summary(screened, verbose), err=True, nl=False)
    from kharden.render import report

    if fmt == "github":
        from kharden.render import github

        click.echo(github.workflow_commands(findings, errors, files=len(screened.sources)), nl=False)
    elif fmt in ("sarif", "markdown"):
        from kharden.render import markdown, sarif

        out = json.dumps(sarif.sarif(findings, errors), indent=2) + "\n" if fmt == "sarif" else (
            markdown.check_report(findings, errors, None if profile else _unfixed(paths, exclude, pss)))
        click.echo(out, nl=False)
    else:
        click.echo(report.findings_json(findings) if fmt == "json" else report.findings_text(findings), nl=False)
    for e in errors:
        click.echo(f"kharden: error: {e}", err=True)
    click.echo(report.check_summary(findings, len(screened.sources), len(errors)), err=True)
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if report.fails(findings) else 0)  # a violation or a would-fix; notes never fail (docs/ci.md)


def _unfixed(paths: tuple[str, ...], exclude: tuple[str, ...], profile: str | None) -> list[Any] | None:
    """What `kharden fix --profile` would leave unfixed on these paths (broken files left out, as fix leaves
    them); None when it cannot tell (stdin, read once already)."""
    from kharden import run
    from kharden.tree import discover, runs

    if "-" in paths:
        return None
    outcome, _ = runs.fix_tree(discover.discover(list(paths), exclude), run.resolve_profile(profile or "restricted"))
    return [f for f in outcome.result.findings if f.status == "unfixed"]
