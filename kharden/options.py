"""The typed options a profile gives each mutator, generator and check: one frozen dataclass per module.

    @dataclass(frozen=True)
    class Options(ProfileOptions):          # in kharden/mutators/run_as_non_root.py
        enforce: bool = False               # profile key `enforce`

A field's profile key is its name in camelCase (`writable_paths` <- `writablePaths`), or `spelled(...)` where the
profile spells it otherwise (`nodeLocalDNS`). `enabled` is every module's first field; checks are on unless a profile
turns them off, mutators and generators off unless it turns them on. kharden.profile builds and validates them
(`profile.options`); stages only read attributes (`opts.enforce`).

Values keep the shape of YAML, frozen where it is cheap: a list becomes a tuple. A mapping stays a plain `dict`
(labels, resource defaults, an image lock): its values go into generated objects and YAML output, where a
read-only proxy is neither a `dict` to the readers that test for one nor representable by the YAML dumpers; each
profile load builds its own copy, so no two profiles share one. `null` is accepted for any option, as profiles always
have: it reads as "not set" (the fields whose readers tell None apart say `| None`).
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProfileOptions:
    """The options every mutator and generator has: whether the profile turns it on."""

    enabled: bool = False


@dataclass(frozen=True)
class CheckOptions(ProfileOptions):
    """A check's options: on unless the profile turns it off."""

    enabled: bool = True


def spelled(name: str, default: Any) -> Any:
    """A field spelled `name` in profiles, with this default (a mapping is copied for each instance)."""
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: copy.deepcopy(default), metadata={"key": name})
    return dataclasses.field(default=default, metadata={"key": name})


def dict_field(default: dict[str, Any]) -> Any:
    """A mapping-valued field with this default, copied for each instance."""
    return dataclasses.field(default_factory=lambda: copy.deepcopy(default))


def profile_key(f: dataclasses.Field[Any]) -> str:
    """The key that sets field `f` in a profile."""
    if "key" in f.metadata:
        return str(f.metadata["key"])
    head, *rest = f.name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def fields_by_key(cls: type[ProfileOptions]) -> dict[str, dataclasses.Field[Any]]:
    """The fields of an options class by profile key, in declaration order (`enabled` first)."""
    return {profile_key(f): f for f in dataclasses.fields(cls)}


def as_profile(opts: ProfileOptions) -> dict[str, Any]:
    """The options as a profile spells them (`kharden profiles NAME`): camelCase keys, lists, plain dicts."""
    return {profile_key(f): _plain(getattr(opts, f.name)) for f in dataclasses.fields(opts)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return copy.deepcopy(value)
