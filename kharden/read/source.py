"""Parse manifests into documents that remember where every node is.

Kubernetes reads YAML 1.1, so kharden does too: PyYAML's resolver (quoted "yes" stays a string, 0644 is 420).
libyaml composes the node tree with character positions; values are constructed from those nodes. The text is
never re-emitted: output splices edits into it (kharden.render.splice), so untouched lines stay byte-identical.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator

import yaml

from kharden.errors import InputError
from kharden.model import ObjectRef, Path
from kharden.read import documents, fastload, limits, outlines, parts, positions, trees
from kharden.read.yamlerrors import explain_yaml_error, not_utf8_error, reader_error, surrogate_error
from kharden.read.fastload import Loader as _Loader  # libyaml's safe loader, tags resolved once per process

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class Document:
    """One YAML document of a source, with its node tree (positions) and its live value.

    It names its source's path, not the Source: a back-reference would make every Source a reference cycle, which
    only the cyclic collector frees, and kharden holds its full walks back during a run (kharden.gcpause). A
    program that runs kharden many times would then keep every run's sources until a full collection.
    """

    path: str  # its source's path, as given by the user ("-": stdin)
    index: int
    node: yaml.Node | None
    data: Any
    repeated_keys: bool = True  # False when reading saw no mapping repeat a key (validate need not search)
    pending: bool = False  # not read (yet: Source.lazy; or any more: released)
    # line_of: each block's keys (or items) by its outline's id on a tree kharden.read.subset read, each mapping's
    # children by key by its node's id on a tree libyaml composed; found once
    _entries: dict[int, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def release(self) -> None:
        """Let go of its node tree, value and caches: the pipeline is done with it (kharden.pipeline.finish)."""
        self.node = self.data = None
        self._entries = {}
        self.pending = True

    def node_at(self, path: Path) -> yaml.Node | None:
        """The node at `path` in the *original* text, or None where the path did not exist."""
        node = self.node
        for key in path:
            if node is None:
                return None
            node = trees.child(node, key)[0]
        return node

    def line_of(self, path: Path) -> int | None:
        """1-based line of the node at `path`, or of its nearest ancestor present in the original text. For a key's
        value, the key's line: that is the line a reader looks for. One walk down the path (`check --profile`
        places tens of thousands of findings: a walk per prefix made it quadratic in the depth). On a tree
        kharden.read.subset read, the walk is on its outline: no node is made for a line number."""
        node, key_node = self.node, None
        if node is None:
            return None
        if isinstance(node, (positions.BlockMapping, positions.BlockSequence)):
            return outlines.line_of(node._outline, node._text.lines, path, self._entries) + 1
        for key in path:
            if node.__class__ is yaml.MappingNode:  # composed by libyaml: its keys looked up once per mapping
                known = self._entries.get(id(node))
                if known is None:
                    known = self._entries[id(node)] = _keys_of(node)
                child, child_key = known.get(key, _NONE) if isinstance(key, str) else _NONE
            else:
                child, child_key = trees.child(node, key)
            if child is None:
                break
            node, key_node = child, child_key
        return (key_node or node).start_mark.line + 1


_NONE = (None, None)


def _keys_of(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A composed mapping's children by key as kharden.read.trees.child finds them (the first of a repeated key)."""
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode):
            out.setdefault(k.value, (v, k))
    return out


@dataclass
class KObject:
    """One Kubernetes object: a document, or one item of a `kind: List` document. `data` is live and mutable."""

    ref: ObjectRef
    data: dict[str, Any]
    doc: Document

    def line(self, path: Path = ()) -> int | None:
        return self.doc.line_of(self.ref.base + tuple(path))

    def annotation(self, key: str) -> Any:
        """The value of one of the object's annotations; None when it has none (or no annotations mapping)."""
        meta = self.data.get("metadata")
        annotations = meta.get("annotations") if isinstance(meta, dict) else None
        return annotations.get(key) if isinstance(annotations, dict) else None

    def where(self, path: Path = ()) -> str:
        """`file:line` of a field for messages and annotations; just `file` where positions are not kept."""
        line = self.line(path)
        return self.ref.file if line is None else f"{self.ref.file}:{line}"


@dataclass
class Source:
    """A file (or stdin) as read: its exact text and its documents."""

    path: str  # as given by the user; "-" for stdin
    text: str  # without BOM
    bom: bool = False
    newline: str = "\n"
    docs: list[Document] = field(default_factory=list)
    lazy: parts.Pieces | None = None  # its documents are read when asked (`load`), a range at a time

    def objects(self, docs: range | None = None) -> Iterator[KObject]:
        """Its objects, in order (`docs`: of those documents only), each range of documents read as it is reached."""
        docs = range(len(self.docs)) if docs is None else docs
        for start in range(docs.start, docs.stop, parts.RANGE):
            some = range(start, min(start + parts.RANGE, docs.stop))
            self.load(some)
            for i in some:
                yield from _objects_of(self.docs[i])

    def load(self, docs: range | None = None) -> None:
        """Read the documents of a lazy source not read yet (all of them, or `docs`). Where a range does not read on
        its own, the whole stream is read, as `parse_text` reads it (and its errors raised)."""
        if self.lazy is None:
            return
        docs = range(len(self.docs)) if docs is None else docs
        todo = [i for i in docs if self.docs[i].pending]
        if not todo:
            return
        read = self.lazy.read(range(todo[0], todo[-1] + 1))
        if read is None:
            whole = parse_text(self.text, self.path, size_limit=False)  # the size was checked when it was cut
            self.docs, self.lazy = whole.docs, None
            return
        for i, (node, data, repeated) in enumerate(read, todo[0]):
            if self.docs[i].pending:
                self.docs[i] = Document(self.path, i, node, data, repeated)


def _objects_of(doc: Document) -> Iterator[KObject]:
    data = doc.data
    if not isinstance(data, dict):
        return
    items = data.get("items")
    if str(data.get("kind", "")).endswith("List") and isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, dict):
                yield KObject(_ref(doc, item, i), item, doc)
        return
    yield KObject(_ref(doc, data, None), data, doc)


def _ref(doc: Document, obj: dict[str, Any], item: int | None) -> ObjectRef:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    ns = meta.get("namespace")
    return ObjectRef(
        file=doc.path,
        doc=doc.index,
        item=item,
        api_version=str(obj.get("apiVersion", "")),
        kind=str(obj.get("kind", "")),
        name=str(meta.get("name", meta.get("generateName", ""))),
        namespace=str(ns) if ns is not None else None,
    )


def parse_text(text: str, path: str = "-", *, size_limit: bool = True, lazy: bool = False) -> Source:
    """Parse a whole stream. Raises InputError naming file, document, line and column.

    Size and (where it could crash libyaml) nesting are checked first (kharden.read.limits). Then
    kharden.read.subset reads the stream if it is written in the part of YAML it knows, as nearly all manifests
    are: the values libyaml would build, and for each document an outline from which kharden.read.positions makes
    its node tree where it is walked. Any other stream, and every stream with an error in it, is composed by
    libyaml: each document is checked for unsafe tags, huge scalars, deep nesting and alias bombs as its values are
    built (kharden.read.fastload.read_document), so hostile input ends in an InputError, never in a crash or a
    hang. Object shapes and duplicate keys: kharden.read.validate.

    `lazy`: a stream plainly cut at its `---` lines (kharden.read.parts) is not read here: each range of its
    documents is read when asked (`Source.load`, `Source.objects`), and may be let go after (Document.release).
    """
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text[: text.find("\n") + 1 or None] else "\n"
    source = Source(path=path, text=text, bom=bom, newline=newline)
    limits.check_text(text, path, size=size_limit)  # no size limit: kharden reading back what it wrote
    pieces = parts.cut(text, path) if lazy else None
    if pieces is not None:
        source.docs = [Document(path, i, None, None, pending=True) for i in range(len(pieces))]
        source.lazy = pieces
        return source
    if _read_by_subset(source):
        return source
    try:
        loader = _Loader(text)
    except UnicodeEncodeError as e:  # a lone surrogate from a caller that decoded with errors="surrogateescape"
        raise surrogate_error(text, e.start, path) from None
    constructor = fastload.Constructor()  # SafeConstructor's values, built directly
    facts = fastload.stream_facts(text)  # no `&`, no alias; a short text, no scalar too long
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            data, repeated = constructor.read_document(node, path, index, facts) if node is not None else (None, False)
            source.docs.append(Document(path, index, node, data, repeated))
            index += 1
    except yaml.MarkedYAMLError as e:
        message, line, column = explain_yaml_error(text, e)
        raise InputError(message, file=path, doc=index, line=line, column=column) from None
    except yaml.reader.ReaderError as e:  # a control character; libyaml counts its position in UTF-8 bytes
        libyaml = issubclass(_Loader, getattr(yaml, "CSafeLoader", ()))
        message, line, column = reader_error(text, e, in_bytes=libyaml)
        raise InputError(message, file=path, doc=index, line=line, column=column) from None
    except yaml.YAMLError as e:
        raise InputError(f"not valid YAML: {e}".replace("\n", " "), file=path, doc=index) from None
    except RecursionError:
        raise InputError("nesting too deep", file=path, doc=index) from None
    finally:
        loader.dispose()
    return source


def _read_by_subset(source: Source) -> bool:
    """Read the source's documents with kharden.read.subset where it is sure and libyaml for the documents it
    declines (kharden.read.documents); False (and nothing read) where libyaml must read the whole stream."""
    read = documents.read(source.text, source.path)
    if read is None:
        return False
    source.docs = [Document(source.path, i, node, data, repeated) for i, (node, data, repeated) in enumerate(read)]
    return True


def read_text_file(path: str) -> str:
    """The text of a file ("-": stdin), refusing files over the size limit and bytes that are not UTF-8."""
    try:
        if path == "-":
            raw = sys.stdin.buffer.read(limits.MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as f:
                limits.check_size(os.fstat(f.fileno()).st_size, path)
                raw = f.read(limits.MAX_FILE_BYTES + 1)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", file=path) from None
    limits.check_size(len(raw), path)  # stdin, or a file that grew while we read it
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise not_utf8_error(raw, e.start, path) from None


def read_source(path: str) -> Source:
    """One file ("-": stdin), read and parsed."""
    return parse_text(read_text_file(path), path)


def read_paths(paths: list[str]) -> list[Source]:
    """Every file of `paths`, read and parsed, in order. Files, not directories: kharden.files.discover walks
    those, for every command alike."""
    return [read_source(p) for p in paths]
