"""The CIS Kubernetes Benchmark items kharden decides from manifests, loaded once from `cis.yaml` (the data table,
with the source of its item numbers and the checkov check each maps to) and judged here.

An item is judged on one value: the flag's (last occurrence wins, as Go's pflag) or the field's, or the item's
`default` when it is absent (the component's own default, so an absent `--profiling` counts as `true`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

CHECKS = ("equals", "not", "includes", "excludes", "min", "set", "absent", "ciphers", "gate-not-false", "suffix")
NEEDS = ("cluster-files", "decision", "obsolete", "checkov-only")
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubelet")
# The ciphers CIS 1.2.29 / 4.2.12 accept (the benchmark's list; checkov's STRONG_CIPHERS is the same plus two
# TLS_RSA_* suites, which lack forward secrecy and are left out here), plus the TLS 1.3 suites.
STRONG_CIPHERS = frozenset({
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
})
_ABSENT = object()


@dataclass(frozen=True)
class Item:
    cis: str
    component: str
    check: str
    fix: str  # add | enforce | guard:<name> | none
    flag: str | None = None
    field: str | None = None  # dotted path in a KubeletConfiguration
    value: Any = None
    default: Any = None
    needs: str | None = None
    checkov: str | None = None
    id: str | None = None  # rule id of an entry that is no CIS item (cis: none)

    @property
    def rule(self) -> str:
        return self.id or f"cis.{self.cis}"

    @property
    def what(self) -> str:
        return self.flag or self.field or "?"

    def expectation(self) -> str:
        value = _norm(self.value)
        return {
            "equals": f"{self.what}={value}", "not": f"{self.what} not {value}",
            "includes": f"{self.what} includes {self.value}", "excludes": f"{self.what} without {self.value}",
            "min": f"{self.what} >= {self.value}", "set": f"{self.what} set", "absent": f"no {self.what}",
            "ciphers": f"{self.what} only strong ciphers", "suffix": f"{self.what} ending in {value}", "gate-not-false": f"{self.what} without {self.value}=false",
        }[self.check]

    def passes(self, written: Any = _ABSENT) -> bool:
        """Does the written value (or absence) satisfy the item?"""
        present = written is not _ABSENT
        value = written if present else self.default
        if self.check == "set":
            return present and value not in (None, "")
        if self.check == "absent":
            return not present
        if self.check == "ciphers":
            suites = value if isinstance(value, list) else str(value).split(",")  # a field's list, a flag's CSV
            return not present or all(str(c).strip() in STRONG_CIPHERS for c in suites if str(c).strip())
        if self.check == "suffix":
            return not present or str(value).endswith(str(self.value))
        if self.check == "gate-not-false":
            return f"{self.value}=false" not in str(value or "").replace(" ", "")
        if value is None:
            return self.check in ("not", "excludes")
        if self.check == "equals":
            return _norm(value) == _norm(self.value)
        if self.check == "not":
            return _norm(value) != _norm(self.value)
        if self.check == "includes":
            return str(self.value) in _items(value)
        if self.check == "excludes":
            return str(self.value) not in _items(value)
        number = _int(value)
        return number is not None and number >= int(self.value)  # min


def _norm(v: Any) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def _items(v: Any) -> list[str]:
    return [s.strip() for s in str(v).split(",") if s.strip()]


def _int(v: Any) -> int | None:
    try:
        return int(str(v))
    except ValueError:
        return None


@functools.lru_cache(maxsize=None)
def items() -> tuple[Item, ...]:
    text = resources.files("kharden.cluster").joinpath("cis.yaml").read_text(encoding="utf-8")
    out = []
    for i, raw in enumerate(yaml.load(text, Loader=yaml.CSafeLoader)):  # package data: libyaml is 10x faster
        item = Item(**{k: str(v) if k == "cis" else v for k, v in raw.items()})
        _validate(item, i)
        out.append(item)
    return tuple(out)


def _validate(item: Item, i: int) -> None:
    problems = [
        item.check not in CHECKS and f"check {item.check!r}",
        item.component not in COMPONENTS and f"component {item.component!r}",
        (item.flag is None) == (item.field is None) and "exactly one of flag and field",
        item.needs is not None and item.needs not in NEEDS and f"needs {item.needs!r}",
        item.fix == "none" and item.needs is None and "fix: none without needs",
        (item.cis == "none") == (item.id is None) and "an id exactly when cis is none",
        not (item.fix in ("add", "enforce", "none") or item.fix.startswith("guard:")) and f"fix {item.fix!r}",
    ]
    bad = [p for p in problems if p]
    if bad:
        raise ValueError(f"kharden/cluster/cis.yaml entry {i} ({item.cis}): bad {', '.join(bad)}")


def for_component(component: str, by: str) -> list[Item]:
    """The items of a component judged by flag (`by="flag"`) or by KubeletConfiguration field."""
    return [it for it in items() if it.component == component and getattr(it, by) is not None]
