"""The command line: read, call the pure core, render. The one place that prints and picks exit codes.

Exit codes: 0 nothing to report / nothing changed; 1 violations found (check) or changes needed (fix --check);
2 bad input, bad profile or bad usage; 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import os
import sys

import click

from kharden import __version__, gcpause
from kharden.cli import check, fix, generate, images, integrations, options, profiles, rbac, serve
from kharden.errors import KhardenError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kharden")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Harden Kubernetes manifests: fix what the Pod Security Standards and hardening guides ask for,
    keeping every byte kharden does not mean to change."""
    if ctx.invoked_subcommand != "serve":  # a server collects as usual; a command holds full collections back
        ctx.with_resource(gcpause.for_run())


# Every command, in one explicit list (`kharden --help` lists them by name).
for command in (fix.fix, check.check, profiles.profiles, generate.generate, images.images, rbac.who_can, rbac.can_i,
                integrations.kustomize_plugin, integrations.krm, integrations.helm_post_render, serve.serve):
    cli.add_command(command)


def main() -> None:
    """Entry point: the one place KhardenErrors become messages and exit code 2."""
    try:
        _main()
    finally:
        gcpause.leave_to_exit()  # the process ends here: its heap is the operating system's to free


def _main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(options.EXIT_ERROR)
    except click.exceptions.Abort:
        sys.exit(130)
    except KhardenError as e:
        click.echo(f"kharden: error: {e}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as e:  # a bug in kharden: say so plainly; the traceback only on request
        if os.environ.get("KHARDEN_DEBUG"):
            raise
        click.echo(f"kharden: internal error: {type(e).__name__}: {e} (set KHARDEN_DEBUG=1 for details)", err=True)
        sys.exit(options.EXIT_INTERNAL)
