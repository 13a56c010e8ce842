"""`kharden who-can` and `kharden can-i`: questions to the manifests' RBAC, answered offline."""

from __future__ import annotations

import sys

import click

from kharden.cli.options import answer_format


@click.command("who-can")
@click.argument("verb")
@click.argument("resource", metavar="RESOURCE[.GROUP][/SUBRESOURCE]|/URL")
@click.argument("paths", nargs=-1, required=True)
@click.option("--namespace", "-n", default="", help="The request's namespace (default: cluster-wide).")
@click.option("--all-namespaces", "-A", is_flag=True, help="Also RoleBindings of every namespace, each for its own.")
@click.option("--name", default="", help="The object's name (rules with resourceNames).")
@answer_format()
def who_can(verb: str, resource: str, paths: tuple[str, ...], namespace: str, all_namespaces: bool, name: str,
            fmt: str) -> None:
    """Every subject the manifests allow a request, with the binding and rule that grant it (offline)."""
    from kharden.progress import read_sources
    from kharden.rbac import query, report

    req, grants, unresolved = query.ask_who(read_sources(list(paths)), verb, resource, namespace, name,
                                            all_namespaces)
    render = {"text": report.who_can_text, "json": report.who_can_json, "markdown": report.who_can_markdown}[fmt]
    click.echo(render(req, grants, unresolved), nl=False)


@click.command("can-i")
@click.argument("verb")
@click.argument("resource", metavar="RESOURCE[.GROUP][/SUBRESOURCE]|/URL")
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "as_user", required=True, help="User, or system:serviceaccount:NS:NAME.")
@click.option("--as-group", "groups", multiple=True, help="A group the user is in (repeatable).")
@click.option("--namespace", "-n", default="", help="The request's namespace (default: cluster-wide).")
@click.option("--name", default="", help="The object's name (rules with resourceNames).")
@answer_format()
def can_i(verb: str, resource: str, paths: tuple[str, ...], as_user: str, groups: tuple[str, ...], namespace: str,
          name: str, fmt: str) -> None:
    """yes (exit 0) or no (exit 1): may SUBJECT do this, by the manifests' RBAC (offline)."""
    from kharden.progress import read_sources
    from kharden.rbac import query, report

    user, req, grants = query.ask_can(read_sources(list(paths)), verb, resource, namespace, name, as_user, groups)
    render = {"text": report.can_i_text, "json": report.can_i_json, "markdown": report.can_i_markdown}[fmt]
    click.echo(render(user, req, grants), nl=False)
    sys.exit(0 if grants else 1)
