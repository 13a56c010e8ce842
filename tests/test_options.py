"""The typed profile options (kharden/options.py): every registered module declares a frozen `Options` dataclass
whose defaults fit its annotations, and `profile.options` loads a profile's settings into it."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from kharden.checks import CHECK_OPTIONS
from kharden.errors import ProfileError
from kharden.generators import GENERATOR_OPTIONS
from kharden.mutators import MUTATOR_OPTIONS
from kharden.mutators.capabilities import Options as CapabilitiesOptions
from kharden.options import CheckOptions, ProfileOptions, as_profile, fields_by_key
from kharden.profile import load_profile, options

ALL = [(f"mutators.{k}", c) for k, c in MUTATOR_OPTIONS.items()] + \
      [(f"generators.{k}", c) for k, c in GENERATOR_OPTIONS.items()] + \
      [(f"checks.{k}", c) for k, c in CHECK_OPTIONS.items()]


def _fits(value: Any, annotation: Any) -> bool:
    """Whether a default value is of its field's annotated type (one level deep: tuple[str, ...] wants a tuple)."""
    if annotation is Any:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    if origin is tuple:
        return isinstance(value, tuple) and all(_fits(v, typing.get_args(annotation)[0]) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


@pytest.mark.parametrize("where, cls", ALL, ids=[w for w, _ in ALL])
def test_every_options_class_is_frozen_and_its_defaults_fit_their_types(where: str, cls: type[ProfileOptions]) -> None:
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, where  # type: ignore[attr-defined]
    assert list(fields_by_key(cls))[0] == "enabled"
    assert cls().enabled is where.startswith("checks."), "checks on, mutators and generators off, unless a profile says"
    assert issubclass(cls, CheckOptions) == where.startswith("checks.")
    hints = typing.get_type_hints(cls)
    default = cls()
    for f in dataclasses.fields(cls):
        assert _fits(getattr(default, f.name), hints[f.name]), f"{where}.{f.name}: default does not fit {hints[f.name]}"


@pytest.mark.parametrize("where, cls", ALL, ids=[w for w, _ in ALL])
def test_the_defaults_as_a_profile_writes_them_load_back_unchanged(where: str, cls: type[ProfileOptions]) -> None:
    written = as_profile(cls())
    assert options(cls(), written, where) == cls()
    assert all(not isinstance(v, tuple) for v in written.values()), "a profile shows lists, as YAML writes them"


def test_options_are_frozen_and_lists_load_as_tuples() -> None:
    opts = options(CapabilitiesOptions(), {"allowAdd": ["NET_ADMIN"], "enforce": True}, "mutators.capabilities")
    assert opts.allow_add == ("NET_ADMIN",) and opts.enforce is True and opts.drop_all is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.enforce = False  # type: ignore[misc]


def test_a_mapping_option_is_not_shared_between_loads() -> None:
    a, b = load_profile("strict"), load_profile("strict")
    assert a.mutators["resources"].limits == b.mutators["resources"].limits  # type: ignore[attr-defined]
    assert a.mutators["resources"].limits is not b.mutators["resources"].limits  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw, message", [
    ({"dropAll": "yes"}, "mutators.capabilities.dropAll: expected bool, got str"),
    ({"allowAdd": "NET_ADMIN"}, "mutators.capabilities.allowAdd: expected list, got str"),
    ({"drop_all": True}, "mutators.capabilities.drop_all: unknown option; known: enabled, dropAll, allowAdd, enforce"),
])
def test_options_refuses_what_a_profile_may_not_say(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ProfileError) as err:
        options(CapabilitiesOptions(), raw, "mutators.capabilities", "mine.yaml")
    assert str(err.value.message) == message and err.value.file == "mine.yaml"


def test_acronym_keys_keep_their_profile_spelling(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("extends: restricted\ngenerators:\n  networkPolicies: {nodeLocalDNS: 169.254.20.10, "
                    "apiServerCIDR: 10.0.0.1/32, apiServerPorts: [6443]}\n")
    netpol = load_profile(str(path)).generators["networkPolicies"]
    assert (netpol.node_local_dns, netpol.api_server_cidr, netpol.api_server_ports) == (  # type: ignore[attr-defined]
        "169.254.20.10", "10.0.0.1/32", (6443,))
    assert load_profile(str(path)).as_dict()["generators"]["networkPolicies"]["apiServerPorts"] == [6443]


def test_with_generator_and_only_generator_replace_options() -> None:
    prof = load_profile("restricted").with_generator("secrets", move=True)
    assert prof.generators["secrets"].enabled and prof.generators["secrets"].move  # type: ignore[attr-defined]
    only = prof.only_generator("rbac")
    assert [g for g, o in only.generators.items() if o.enabled] == ["rbac"]
    assert only.generators["secrets"].move  # type: ignore[attr-defined]  # the other options stay
