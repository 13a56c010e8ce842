"""Where `fix -o DIR` writes each file: the input tree mirrored, each file relative to the argument it was found
under (a file given by name: its name in DIR). Two inputs that would map to one output path are an error before
anything is written; stdin has no name to mirror and is refused (it never becomes a file named `-`)."""

from __future__ import annotations

import os

from kharden.errors import UsageError
from kharden.files.discover import Found


def mirror(found: Found, output_dir: str) -> dict[str, str]:
    """file -> its path under output_dir, for every found file; UsageError on stdin or a collision."""
    targets: dict[str, str] = {}
    first: dict[str, str] = {}
    for path, arg in found.files:
        if path == "-":
            raise UsageError("--output-dir mirrors files: stdin has no name there (use `kharden fix - > FILE`)")
        rel = os.path.relpath(path, arg) if os.path.isdir(arg) else os.path.basename(path)
        target = os.path.normpath(os.path.join(output_dir, rel))
        key = os.path.normcase(target)
        if key in first:
            raise UsageError(f"--output-dir: {first[key]} and {path} would both be written to {target}; "
                             "give their common directory instead, or run them apart")
        first[key] = path
        targets[path] = target
    return targets
