"""The built-in image catalog (catalog.yaml beside this module): loaded and validated once, looked up by image.

    lookup("nginx:1.27")            -> ImageFacts(source="catalog", family="nginx", user=101, ...)
    lookup("postgres:16-alpine")    -> the postgres entry with its alpine variant applied (uid 70)
    lookup("example.com/app:1")     -> None
    recognise({"Env": ["NGINX_VERSION=1.27.4", ...]}, "mirror.example/library/nginx:1") -> the nginx entry

An entry matches a repository name exactly (`docker.io/library/nginx`) or by a pattern whose `*` stands for the
rest of the path (`docker.io/bitnami/*`); a variant applies when the tag (`latest` when none is written) matches
one of its globs. A lookup is cached per image string: a manifest set names the same images over and over.
An image under a name the catalog does not list (a mirror, a pull-through cache, an image built FROM an official
one) is recognised by what its own config says, when kharden has read it: every `configEnv` variable of an entry
set (the official Dockerfile's ENV, e.g. NGINX_VERSION, PG_MAJOR and PG_VERSION) and the entry's USER.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
from importlib import resources
from typing import Any, Mapping

import yaml

from kharden.errors import KhardenError
from kharden.images.facts import ROOT_NAMES, ImageFacts
from kharden.images.reference import ReferenceError, parse

KEYS = {"family", "images", "source", "user", "group", "imageUser", "startsAsRoot", "writable", "volumes",
        "contentWrites", "ports", "capabilities", "variants", "notes", "configEnv", "dataDir"}
VARIANT_KEYS = KEYS - {"family", "images", "source", "variants", "configEnv"} | {"tags"}
START_MODES = (None, "drops", "required")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CatalogError(KhardenError):
    """The catalog data does not validate (a bug in kharden's data, caught by its tests)."""


@functools.lru_cache(maxsize=1)
def entries() -> tuple[dict[str, Any], ...]:
    text = resources.files("kharden.images").joinpath("catalog.yaml").read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_LOADER)  # libyaml: a tenth of the pure-Python loader's time, paid by every fix
    out = tuple(data["entries"])
    for entry in out:
        validate(entry)
    return out


def validate(entry: dict[str, Any]) -> None:
    where = f"catalog entry {entry.get('family')!r}"
    unknown = set(entry) - KEYS
    if unknown:
        raise CatalogError(f"{where}: unknown key(s) {sorted(unknown)}")
    for key in ("family", "images", "source"):
        if not entry.get(key):
            raise CatalogError(f"{where}: {key} is required")
    for image in entry["images"]:
        parse(image.replace("*", "x"))  # a pattern must still be a repository name
    markers = entry.get("configEnv")
    if markers is not None and (not isinstance(markers, list) or not markers or "imageUser" not in entry
                                or not all(isinstance(m, str) and m.isidentifier() for m in markers)):
        raise CatalogError(f"{where}: configEnv is a list of Env variable names, and needs imageUser beside it")
    for variant in entry.get("variants") or []:
        if set(variant) - VARIANT_KEYS or not variant.get("tags"):
            raise CatalogError(f"{where}: a variant needs tags and only the keys {sorted(VARIANT_KEYS)}")
        _check_values({**entry, **variant}, where)
    _check_values(entry, where)


def _check_values(entry: dict[str, Any], where: str) -> None:
    for key in ("user", "group"):
        if entry.get(key) is not None and (not isinstance(entry[key], int) or entry[key] < 0):
            raise CatalogError(f"{where}: {key} must be a number")
    if entry.get("user") == 0:
        raise CatalogError(f"{where}: user 0 is root: leave user out (null) instead")
    if entry.get("startsAsRoot") not in START_MODES:
        raise CatalogError(f"{where}: startsAsRoot is one of {START_MODES}")
    for path in [*(entry.get("writable") or []), *(entry.get("volumes") or {}), *(entry.get("contentWrites") or [])]:
        if not str(path).startswith("/"):
            raise CatalogError(f"{where}: {path!r} is not an absolute path")
    if any(v not in ("empty", "content") for v in (entry.get("volumes") or {}).values()):
        raise CatalogError(f"{where}: a volume is `empty` or `content`")
    _check_data_dir(entry.get("dataDir"), where)


def _check_data_dir(data_dir: Any, where: str) -> None:
    """`dataDir: {path: /absolute, env: NAME, onClaim: {startsAsRoot: required, capabilities: [...]}}` (env and
    onClaim optional): the directory the image must own, and how it must start when a persistent volume is there."""
    if data_dir is None:
        return
    if (not isinstance(data_dir, dict) or set(data_dir) - {"env", "path", "onClaim"}
            or not str(data_dir.get("path", "")).startswith("/") or not str(data_dir.get("env", "X")).isidentifier()):
        raise CatalogError(f"{where}: dataDir is {{path: /absolute, env: NAME (optional), onClaim (optional)}}")
    on_claim = data_dir.get("onClaim")
    if on_claim is not None and (
            not isinstance(on_claim, dict) or set(on_claim) != {"startsAsRoot", "capabilities"}
            or on_claim["startsAsRoot"] != "required" or not isinstance(on_claim["capabilities"], list)
            or not all(isinstance(c, str) and c.isupper() for c in on_claim["capabilities"])):
        raise CatalogError(f"{where}: dataDir's onClaim is {{startsAsRoot: required, capabilities: [NAME, ...]}}")


def _matches(pattern: str, name: str) -> bool:
    return pattern == name or ("*" in pattern and fnmatch.fnmatchcase(name, pattern))


@functools.lru_cache(maxsize=4096)
def lookup(image: str) -> ImageFacts | None:
    """The catalog's facts for an image string as written in a manifest; None when it has no entry."""
    try:
        ref = parse(image)
    except ReferenceError:
        return None
    for entry in entries():
        if any(_matches(p, ref.name) for p in entry["images"]):
            return _facts(entry, ref.tag or "latest")
    return None


def _facts(entry: dict[str, Any], tag: str) -> ImageFacts:
    merged = dict(entry)
    for variant in entry.get("variants") or []:
        if any(fnmatch.fnmatchcase(tag, glob) for glob in variant["tags"]):
            merged.update({k: v for k, v in variant.items() if k != "tags"})
    user = merged.get("user")
    return ImageFacts(
        source="catalog", evidence=f"catalog entry {entry['family']}: {' '.join(entry['source'].split())}",
        family=entry["family"], user=user, group=merged.get("group") if user is not None else None,
        image_user=merged.get("imageUser"), starts_as_root=merged.get("startsAsRoot"),
        writable=tuple(merged.get("writable") or ()), volumes=dict(merged.get("volumes") or {}),
        content_writes=tuple(merged.get("contentWrites") or ()), ports=tuple(merged.get("ports") or ()),
        capabilities=tuple(merged.get("capabilities") or ()),
        notes=(merged["notes"],) if merged.get("notes") else (),
        data_dir=(merged["dataDir"].get("env"), merged["dataDir"]["path"]) if merged.get("dataDir") else None,
        on_claim=_on_claim(merged.get("dataDir")))


def _on_claim(data_dir: Any) -> tuple[str, tuple[str, ...]] | None:
    """(startsAsRoot, capabilities) for a container with a persistent volume at its data directory."""
    on_claim = data_dir.get("onClaim") if isinstance(data_dir, dict) else None
    return (on_claim["startsAsRoot"], tuple(on_claim["capabilities"])) if on_claim else None


def recognise(config: Mapping[str, Any], image: str) -> ImageFacts | None:
    """The catalog's facts for an image its own config shows to be of a family (`config`: the config's `config`
    section), or None: every `configEnv` variable set and the same USER, one family only. Two families that share
    the variables (nginx and nginx-unprivileged) are told apart by USER, else by the repository's last component
    (`.../library/nginx`); still two: none, as an unknown image is safer than a wrong guess."""
    env = config.get("Env")
    names = {e.split("=", 1)[0] for e in env if isinstance(e, str)} if isinstance(env, list) else set()
    user = _user(config.get("User"))
    found = [e for e in entries() if e.get("configEnv") and set(e["configEnv"]) <= names
             and _user(e.get("imageUser")) == user]
    try:
        ref = parse(image)
    except ReferenceError:
        ref = None
    if len(found) > 1 and ref is not None:
        last = ref.name.rsplit("/", 1)[-1]
        found = [e for e in found if any(p.rsplit("/", 1)[-1] == last for p in e["images"])]
    if len(found) != 1:
        return None
    entry = found[0]
    how = f"recognised by its config: Env {' '.join(entry['configEnv'])}, USER {user or 'root'}"
    facts = _facts(entry, (ref.tag if ref is not None else None) or "latest")
    return dataclasses.replace(facts, evidence=f"{facts.evidence} ({how})", recognised=how)


def _user(value: Any) -> str:
    """A USER as compared: root however written ("", "0", "root", "0:0") is ""."""
    text = str(value or "").strip()
    return "" if text.split(":")[0] in ROOT_NAMES else text
