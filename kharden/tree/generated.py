"""`fix -i`/`-o` and the objects an earlier run generated: read as kharden's own (kharden.generators.owned), kept
out of the inputs, and merged with this run's objects into the one generated file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from kharden.errors import KhardenError
from kharden.generators.owned import is_ours, merged
from kharden.model import GENERATED_FILE
from kharden.read import parse_text
from kharden.read.source import read_text_file
from kharden.run import FixOutcome, dump_each
from kharden.files.discover import Found


@dataclass
class Earlier:
    path: str
    text: str
    objects: list[dict[str, Any]]


def target(args: list[str], output_dir: str | None, generated_file: str | None) -> str:
    """--generated-file, else kharden-generated.yaml in DIR (-o), else beside the first argument (in it, when it
    is a directory)."""
    if generated_file:
        return generated_file
    first = args[0] if args else "."
    base = output_dir or (first if os.path.isdir(first) else os.path.dirname(first))
    return os.path.join(base or ".", GENERATED_FILE)


def earlier(paths: list[str]) -> Earlier | None:
    """The first of `paths` that exists and holds only objects kharden generated; None when none does (a file
    someone wrote objects into is input, as before: kept, and appended to)."""
    for path in paths:
        if not os.path.isfile(path):
            continue
        try:
            text = read_text_file(path)
            docs = [d.data for d in parse_text(text, path).docs if d.data is not None]
        except KhardenError:
            return None  # a broken file: screening reports it
        if docs and all(is_ours(d) for d in docs):
            return Earlier(path, text, docs)
        return None
    return None


def drop(found: Found, path: str) -> None:
    """Leave kharden's own generated file out of the inputs (a directory walk finds it)."""
    key = os.path.realpath(path)
    found.files = [(f, a) for f, a in found.files if f == "-" or os.path.realpath(f) != key]


@dataclass
class Regenerated(FixOutcome):
    """A fix whose generated objects are merged with those of an earlier run (kharden.generators.owned)."""

    earlier: Earlier | None = None

    def generated_stream(self, separator: bool = True) -> str:
        objects = merged(self.earlier.objects if self.earlier else [], self.result.generated)
        return "".join(("---\n" if separator or i else "") + text for i, text in enumerate(dump_each(objects)))

    @property
    def changed(self) -> bool:
        if self.earlier is None or not self.result.generated:
            return super().changed
        return bool(self.outputs) or self.generated_stream(False) != self.earlier.text
