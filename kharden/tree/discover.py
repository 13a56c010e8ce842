"""The tree edges' name for the one directory walk, which lives in kharden.files.discover (below kharden.run, so
that the library calls and `images lock` walk as `fix` and `check` do)."""

from __future__ import annotations

from kharden.files.discover import Found, discover

__all__ = ["Found", "discover"]
