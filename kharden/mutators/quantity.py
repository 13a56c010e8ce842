"""Kubernetes resource quantities ("100m", "1.5Gi", "1e3", 2) as exact numbers, for comparing requests with limits.

The grammar is the API server's: an optional sign, a decimal number, then either a binary suffix (Ki Mi Gi Ti Pi Ei),
a decimal suffix (n u m "" k M G T P E) or an exponent (e3, E-2). Values are exact `Decimal`s, so "1Gi" > "1G" and
"0.5" == "500m" compare as the API server would.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")


def parse_quantity(value: Any) -> Decimal | None:
    """The quantity's value, or None if it is not a quantity (a template placeholder, a typo, a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return Decimal(str(value))
        except InvalidOperation:  # pragma: no cover - nan/inf never come out of YAML 1.1 ints
            return None
    if not isinstance(value, str):
        return None
    return _parse_text(str(value))


# The same few strings ("100m", "512Mi") come again and again: each is parsed once. A Decimal is immutable, so one
# may serve every caller.
@lru_cache(maxsize=4096)
def _parse_text(value: str) -> Decimal | None:
    m = _QUANTITY.match(value.strip())
    if not m:
        return None
    number, suffix = Decimal(m.group(1)), m.group(2) or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))  # e-notation


def larger(a: Any, b: Any) -> Any:
    """The larger of two quantities, as written (a on a tie). Both must parse."""
    return b if parse_quantity(b) > parse_quantity(a) else a  # type: ignore[operator]
