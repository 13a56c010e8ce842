"""The edge-facing calls of who-can / can-i: read sources' objects (plus the built-in defaults), index, answer."""

from __future__ import annotations

from importlib import resources

from kharden.rbac.authz import Grant, Request, User, can_i, parse_request, unresolved, user_info, who_can
from kharden.rbac.objects import Index, build_index
from kharden.read import KObject, Source, parse_text


def defaults() -> list[KObject]:
    """cluster-admin and its system:masters binding (kharden/rbac/bootstrap.yaml), unless the input has its own."""
    text = resources.files("kharden.rbac").joinpath("bootstrap.yaml").read_text(encoding="utf-8")
    return list(parse_text(text, "<built-in defaults>").objects())


def index_of(sources: list[Source]) -> Index:
    objects = [o for s in sources for o in s.objects()]
    have = {(o.ref.kind, o.ref.name) for o in objects}
    extra = [o for o in defaults() if (o.ref.kind, o.ref.name) not in have]
    return build_index(objects + extra)


def ask_who(sources: list[Source], verb: str, target: str, namespace: str, name: str,
            every_namespace: bool) -> tuple[Request, list[Grant], list[str]]:
    index = index_of(sources)
    req = parse_request(verb, target, namespace, name, index)
    return req, who_can(index, req, every_namespace), unresolved(index)


def ask_can(sources: list[Source], verb: str, target: str, namespace: str, name: str, as_user: str,
            groups: tuple[str, ...]) -> tuple[User, Request, list[Grant]]:
    index = index_of(sources)
    req = parse_request(verb, target, namespace, name, index)
    user = user_info(as_user, groups)
    return user, req, can_i(index, user, req)
