"""The commands other tools call: the kustomize exec plugin, the KRM function and the Helm post-renderer."""

from __future__ import annotations

import sys

import click

from kharden.cli.options import profile_option
from kharden.errors import UsageError


@click.command("kustomize-plugin")
@click.argument("arg", required=False, metavar="[CONFIG|DIR]")
@click.option("--install", is_flag=True, help="Install the exec plugin under DIR (default: where kustomize looks).")
def kustomize_plugin(arg: str | None, install: bool) -> None:
    """kustomize exec plugin: CONFIG (a kind: Hardening file) as argument, resources on stdin -> stdout."""
    from kharden.integrations import kustomize

    if install:
        click.echo(kustomize.install(arg))
        return
    if not arg:
        raise UsageError("kustomize-plugin needs the plugin config file (kustomize passes it), or --install [DIR]")
    config = kustomize.read_config(arg)
    out, summary = kustomize.transform(sys.stdin.read(), config)
    if config.summary:
        click.echo(summary, err=True, nl=False)
    sys.stdout.write(out)


@click.command()
def krm() -> None:
    """KRM function: ResourceList on stdin -> hardened ResourceList with results on stdout (kpt, kustomize)."""
    from kharden.integrations import krm as krm_fn

    out, failed = krm_fn.process(sys.stdin.read())
    sys.stdout.write(out)
    sys.exit(1 if failed else 0)


@click.command("helm-post-render")
@profile_option()
@click.option("--generate/--no-generate", default=None, help="Generate NetworkPolicies/RBAC (default: profile).")
@click.option("--summary", is_flag=True, help="Write kharden's summary to stderr.")
def helm_post_render(profile: str, generate: bool | None, summary: bool) -> None:
    """Helm post-renderer: rendered manifests on stdin -> hardened manifests on stdout (nothing on failure)."""
    from kharden import run
    from kharden.integrations import helm
    from kharden.render import report

    out, result = helm.post_render(sys.stdin.read(), run.resolve_profile(profile), generate, records=summary)
    if summary:
        click.echo(report.fix_summary(result.changes, result.findings, len(result.generated)), err=True, nl=False)
    run.write_text(out, sys.stdout)
