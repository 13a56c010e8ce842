"""A progress bar on stderr for long runs on a terminal; nothing at all when stderr is not a TTY.

Reading and parsing is the part of `kharden fix` that grows with the input, file by file, so the bar counts files.
Short runs (fewer than MIN_FILES files) show nothing: a bar that flashes by is noise.
"""

from __future__ import annotations

import sys
from typing import TextIO

import click

from kharden.files.discover import discover
from kharden.read import Source, parse_text
from kharden.read.source import read_text_file

MIN_FILES = 20


def wanted(n_files: int, stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return n_files >= MIN_FILES and stream.isatty()


def read_sources(paths: list[str], stream: TextIO | None = None) -> list[Source]:
    """The files of `paths` (kharden.files.discover: directories walked as `fix` walks them) read, with a bar on
    `stream` (stderr) when it is a terminal and there are many files."""
    stream = stream or sys.stderr
    files = discover(paths).paths
    if not wanted(len(files), stream):
        return [parse_text(read_text_file(p), p) for p in files]
    with click.progressbar(files, label="kharden: reading", file=stream, show_pos=True) as bar:
        return [parse_text(read_text_file(p), p) for p in bar]
