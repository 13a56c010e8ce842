"""`kharden profiles`: the built-in profiles, or one fully resolved."""

from __future__ import annotations

import click


@click.command()
@click.argument("name", required=False)
def profiles(name: str | None) -> None:
    """List the built-in profiles, or show one fully resolved."""
    import yaml

    from kharden.profile import builtin_names, load_profile

    if name is None:
        for n in builtin_names():
            click.echo(f"{n:12} {load_profile(n).description}")
        return
    click.echo(yaml.safe_dump(load_profile(name).as_dict(), sort_keys=False), nl=False)
