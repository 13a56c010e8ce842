"""`kharden images lock`: resolve image references to digests (the one command that uses the network)."""

from __future__ import annotations

import sys

import click

from kharden.cli.options import EXIT_ERROR, profile_option, tree_options


@click.group()
def images() -> None:
    """Image references: resolve them to digests for `kharden fix --pin-images`."""


@images.command("lock")
@click.argument("paths", nargs=-1, required=True)
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), help="Write the lock here (default: stdout).")
@profile_option()
@click.option("--platform", default="linux/amd64", show_default=True, help="Platform whose image is checked to exist.")
@click.option("--platform-digest", is_flag=True, help="Pin the platform's manifest, not the multi-arch index.")
@click.option("--insecure-registry", multiple=True, help="Plain http to this registry host (loopback always may).")
@tree_options
def images_lock(paths: tuple[str, ...], output: str | None, profile: str, platform: str, platform_digest: bool,
                insecure_registry: tuple[str, ...], exclude: tuple[str, ...], verbose: bool) -> None:
    """Resolve every image reference of PATHS through its registry and write the lock (network: only here). PATHS
    are walked as `fix` walks them: .gitignored and --exclude'd files, charts and non-manifests are left out."""
    from kharden import run
    from kharden.images.lock import dump_lock
    from kharden.images.locking import objects_of, references, resolve
    from kharden.images.registry import Client
    from kharden.tree import discover, screen

    prof = run.resolve_profile(profile)
    screened = screen.screen(discover.discover(list(paths), exclude), prof.pod_templates, validate=False)
    click.echo(screen.summary(screened, verbose), err=True, nl=False)
    objects, errors = objects_of(screened.sources, prof.pod_templates)
    errors = screened.errors + errors
    for e in errors:
        click.echo(f"kharden: error: {e}", err=True)
    client = Client(platform=platform, insecure=insecure_registry)
    pins, failed = resolve(references(objects, prof.pod_templates), client, platform_digest)
    for image, e in failed.items():
        click.echo(f"kharden: error: {image}: not resolved: {e}", err=True)
    text = dump_lock(pins)
    if output:
        from kharden.tree.write import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)
    click.echo(f"kharden: {len(pins)} image(s) locked, {len(failed)} not resolved", err=True)
    sys.exit(EXIT_ERROR if errors else 1 if failed else 0)
