"""Read: files and streams into documents, objects and their positions."""

from kharden.read.source import Document, KObject, Source, parse_text, read_paths

__all__ = ["Document", "KObject", "Source", "parse_text", "read_paths"]
