"""Resource limits of the reader: hostile input ends in a clear InputError within seconds, memory bounded.

Each limit is a named constant, chosen to accept every real manifest we know of with a wide margin:

- MAX_FILE_BYTES: 16 MiB per file (or stdin). The largest single-file installs we know (argo-cd `install.yaml`,
  about 1.9 MB with three large CRDs; operator bundles of a few MB) fit eight times over. Reading costs about
  15 bytes of memory per byte of YAML, so this bounds a file's parse to roughly 250 MB.
- MAX_SCALAR_CHARS: 2 MiB per scalar. etcd refuses requests over about 1.5 MiB, so no Kubernetes object can carry a
  longer string; the largest scalar in the test corpus is about 4 KB.
- MAX_DEPTH: 200 levels of nested mappings and sequences. Real manifests stay under 40 (CRD schemas are the deepest);
  libyaml's composer recurses in C and crashes the process somewhere past 10,000 levels, and kharden's own helpers
  recurse in Python, so the depth is checked on the event stream *before* anything is composed.
- MAX_EXPANDED_NODES / EXPANSION_FACTOR: aliases are legal YAML and stay legal, but the tree they expand to may hold
  at most max(1,000,000, 10 x the document's own node count) nodes ("billion laughs" composes to a few dozen
  nodes and expands to billions). The expanded size is computed on the composed node graph, each node once, before
  any value is constructed. An alias inside its own anchor (a cycle) is refused, as the Kubernetes API server's
  YAML reader refuses it.
"""

from __future__ import annotations

from typing import Any

import yaml

from kharden.errors import InputError

MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_SCALAR_CHARS = 2 * 1024 * 1024
MAX_DEPTH = 200
MAX_EXPANDED_NODES = 1_000_000
EXPANSION_FACTOR = 10

try:
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]

_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def check_size(size: int, path: str) -> None:
    """Refuse a file of `size` bytes (or characters) above MAX_FILE_BYTES."""
    if size > MAX_FILE_BYTES:
        raise InputError(
            f"file too large: more than {MAX_FILE_BYTES // (1024 * 1024)} MiB (kharden.read.limits.MAX_FILE_BYTES);"
            " split it into several files",
            file=path,
        )


def depth_bound(text: str) -> int:
    """A cheap upper bound of the nesting depth of `text`, to skip the exact scan for ordinary files.

    A flow collection opens with '[' or '{'. A block collection nested in another starts at a column at least as
    far right as its parent, and at least one column further every two levels (a block sequence may sit at its
    mapping key's column, a mapping inside a sequence item may not). So the depth is at most the number of
    flow openers plus twice the longest line plus two.
    """
    longest = max((len(line) for line in text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def check_text(text: str, path: str) -> None:
    """Size and nesting limits of a whole stream, checked before libyaml composes anything."""
    check_size(len(text), path)
    if depth_bound(text) > MAX_DEPTH:
        check_depth(text, path)


def check_depth(text: str, path: str) -> None:
    """Walk the event stream (iterative, no recursion anywhere) and refuse nesting deeper than MAX_DEPTH.

    A syntax error ends the scan silently: the composer reaches the same error at the same place and reports it
    with the usual message, and everything before it has been checked.
    """
    loader = _EventLoader(text)
    depth, doc = 0, -1
    try:
        while True:
            event = loader.get_event()
            if event is None:
                return
            if isinstance(event, yaml.DocumentStartEvent):
                doc += 1
            elif isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise InputError(
                        f"nesting deeper than {MAX_DEPTH} levels (kharden.read.limits.MAX_DEPTH)",
                        file=path, doc=max(doc, 0), line=mark.line + 1, column=mark.column + 1,
                    )
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def _children(node: yaml.Node) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def check_document(root: yaml.Node, path: str, doc: int) -> None:
    """Refuse alias cycles, alias bombs and huge scalars in one composed document, before construction.

    Iterative depth-first walk over the node graph; each distinct node is sized once (memoised by identity),
    so a billion-laughs document costs as much as its few dozen distinct nodes.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise _error("an alias refers to a node that contains it (recursive alias)", node, path, doc)
        if isinstance(node, yaml.ScalarNode):
            if len(node.value) > MAX_SCALAR_CHARS:
                raise _error(
                    f"value longer than {MAX_SCALAR_CHARS // (1024 * 1024)} MiB (kharden.read.limits.MAX_SCALAR_CHARS)",
                    node, path, doc,
                )
            size[key] = 1
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in reversed(_children(node)) if id(c) not in size)
    budget = max(MAX_EXPANDED_NODES, EXPANSION_FACTOR * len(size))
    if size[id(root)] > budget:
        raise _error(
            f"aliases expand to more than {budget:,} nodes (alias bomb?); kharden.read.limits.MAX_EXPANDED_NODES",
            root, path, doc,
        )


def _error(message: str, node: yaml.Node, path: str, doc: int) -> InputError:
    mark = node.start_mark
    return InputError(message, file=path, doc=doc, line=mark.line + 1, column=mark.column + 1)
