"""The access annotation: what parses, what is refused, and how errors point at the manifest."""

from __future__ import annotations

import pytest

from kharden.errors import InputError
from kharden.generators.rbac import generator as rbac
from kharden.generators.rbac.access import Access, AccessSyntaxError, parse_access
from kharden.generators.rbac.rules import Use, build_rules
from kharden.mutators.base import Editor
from kharden.read import parse_text


def test_parses_verbs_groups_subresources_and_names() -> None:
    got = parse_access("get, list,watch configmaps; get secrets:app-tls\ncreate events.events.k8s.io, pods/eviction")
    assert got == [
        Access("", "configmaps", ("get", "list", "watch")),
        Access("", "secrets", ("get",), "app-tls"),
        Access("events.k8s.io", "events", ("create",)),
        Access("", "pods/eviction", ("create",)),
    ]


def test_group_with_subresource_and_dotted_name() -> None:
    assert parse_access("patch deployments.apps/scale:web") == [Access("apps", "deployments/scale", ("patch",), "web")]
    lease = parse_access("get,update leases.coordination.k8s.io:58ac56fa.applicationsets.argoproj.io")
    assert lease == [Access("coordination.k8s.io", "leases", ("get", "update"), "58ac56fa.applicationsets.argoproj.io")]


def test_verbs_are_sorted_and_deduplicated() -> None:
    assert parse_access("watch,get,get pods")[0].verbs == ("get", "watch")


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "declares no access"),
        ("get", "expected 'VERBS TARGETS'"),
        ("fetch pods", "unknown verb 'fetch'"),
        ("* pods", "'*' is not allowed"),
        ("get *", "bad target '*'"),
        ("get Pods", "bad target 'Pods'"),
        ("get pods secrets", "bad target 'pods secrets'"),
        ("list secrets:a", "list cannot be restricted to a name"),
        ("create,get configmaps:x", "create cannot be restricted to a name"),
        ("get pods/", "bad target"),
        ("get secrets:", "bad target"),
    ],
)
def test_bad_syntax_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(AccessSyntaxError) as e:
        parse_access(text)
    assert fragment in str(e.value)


BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    metadata:
      annotations:
        kharden.dev/access: "get configmaps; delete-all secrets"
    spec:
      containers: [{name: web, image: web:1}]
"""


def test_bad_annotation_is_an_input_error_with_file_and_line() -> None:
    objects = list(parse_text(BAD, "app.yaml").objects())
    with pytest.raises(InputError) as e:
        rbac.generate(objects, rbac.Options(), lambda o: Editor(o, "rbac", []))
    assert (e.value.file, e.value.line) == ("app.yaml", 10)
    assert "unknown verb 'delete-all'" in str(e.value)
    assert str(e.value).startswith("app.yaml:10 document 1: Deployment/shop/web: kharden.dev/access:")


def test_non_string_annotation_is_an_input_error() -> None:
    text = BAD.replace('"get configmaps; delete-all secrets"', "42")
    with pytest.raises(InputError, match="must be a string"):
        rbac.generate(list(parse_text(text, "a.yaml").objects()), rbac.Options(), lambda o: Editor(o, "r", []))


def test_declared_names_are_all_kept_but_logged_ones_only_when_one() -> None:
    uses = [Use("get", "", "secrets", "a", "s"), Use("get", "", "secrets", "b", "s")]
    assert build_rules(uses, None)[0].as_dict()["resourceNames"] == ["a", "b"]
    assert "resourceNames" not in build_rules(uses, 1)[0].as_dict()


def test_a_verb_seen_with_and_without_a_name_loses_the_name() -> None:
    uses = [Use("get", "", "configmaps", "a", "s"), Use("get", "", "configmaps", None, "s")]
    assert build_rules(uses, 1)[0].as_dict() == {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}


def test_create_and_deletecollection_never_keep_names() -> None:
    uses = [Use("create", "", "pods/exec", "web-0", "s"), Use("deletecollection", "", "pods", "x", "s")]
    assert [r.as_dict().get("resourceNames") for r in build_rules(uses, 1)] == [None, None]
