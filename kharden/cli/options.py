"""What several commands share: their common options, exit codes, and the report of unreadable files."""

from __future__ import annotations

import sys
from typing import Any, Callable

import click

EXIT_ERROR = 2
EXIT_INTERNAL = 3


def profile_option(default: str | None = "restricted") -> Callable[[Any], Any]:
    return click.option(
        "--profile", "-p", default=default, show_default=True, help="Built-in profile name or path to a profile file."
    )


def kube_version_option() -> Callable[[Any], Any]:
    return click.option(
        "--kube-version", metavar="1.NN", default=None,
        help="Target Kubernetes release for deprecated API versions (default: the newest kharden knows, 1.36).",
    )


def tree_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--exclude and --verbose: which files of a tree are read, and the skipped ones listed (kharden.tree)."""
    f = click.option("--verbose", "-v", is_flag=True, help="List the files skipped (not manifests, templates).")(f)
    return click.option("--exclude", multiple=True, metavar="GLOB",
                        help="Leave out files or directories matching GLOB (repeatable); .gitignored ones always.")(f)


def jobs_option() -> Callable[[Any], Any]:
    # Accepted so that existing scripts keep working, and ignored: parallel runs did not pay (docs/performance.md).
    return click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, hidden=True,
                        help="Ignored (kept for compatibility): kharden runs in one process.")


def answer_format() -> Callable[[Any], Any]:
    return click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
                        show_default=True)


def exit_if_broken(screened: Any) -> None:
    """Every file that could not be read, located; exit 2 once the others were processed (as black does)."""
    for e in screened.errors:
        click.echo(f"kharden: error: {e}", err=True)
    if screened.errors and screened.sources:
        click.echo(f"kharden: {len(screened.errors)} file(s) could not be processed; the others were", err=True)
    if screened.errors:
        sys.exit(EXIT_ERROR)
