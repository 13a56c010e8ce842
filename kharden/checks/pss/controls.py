"""The Pod Security Standards control each check belongs to, by the name the standard gives it ("Privileged
Containers", "Capabilities", "Running as Non-root", "Seccomp", ...): data in `controls.yaml`, with its source."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    text = resources.files(__package__).joinpath("controls.yaml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def control_name(check_id: str) -> str:
    """`privileged` -> "Privileged Containers"; "" for an id that is not a PSS check."""
    return _names().get(check_id, "")
