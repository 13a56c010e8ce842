"""What the reader refuses before any value is constructed: unsafe tags and resource bombs.

Hostile input ends in a clear InputError within seconds, memory bounded. `check_nodes` refuses tags that name
anything but plain YAML values (`!!python/object/apply:os.system` and the like are never constructed: PyYAML's
SafeConstructor could not build them anyway, and this check names file, line and column).

Each limit is a named constant, chosen to accept every real manifest we know of with a wide margin:

- MAX_FILE_BYTES: 128 MiB per file (or stdin). It refuses absurd input, not big renders: a Helm chart of many
  releases renders to tens of MB on stdin (a valid 50 MB render must harden), and the largest single-file installs
  we know (argo-cd `install.yaml`, 1.9 MB) fit many times over. Only input is limited: what kharden writes may be
  larger than what it read (hardening adds lines), and is read back without this limit.
- MAX_SCALAR_CHARS: 2 MiB per scalar. etcd refuses requests over about 1.5 MiB, so no Kubernetes object can carry a
  longer string; the largest scalar in the test corpus is about 4 KB.
- MAX_DEPTH: 200 levels of nested mappings and sequences. Real manifests stay under 40 (CRD schemas are the deepest);
  libyaml's composer recurses in C and crashes the process somewhere past 10,000 levels, and kharden's own helpers
  recurse in Python. Text that could nest deeper than COMPOSER_SAFE_DEPTH (2,000, a fifth of where libyaml was
  seen to crash) is scanned event by event *before* anything is composed; the rest is checked on the node tree.
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

MAX_FILE_BYTES = 128 * 1024 * 1024
MAX_SCALAR_CHARS = 2 * 1024 * 1024
MAX_DEPTH = 200
COMPOSER_SAFE_DEPTH = 2000
MAX_EXPANDED_NODES = 1_000_000
EXPANSION_FACTOR = 10

try:
    from yaml import CSafeLoader as _EventLoader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _EventLoader  # type: ignore[assignment]  # no libyaml: the Python class

_MERGE = "tag:yaml.org,2002:merge"  # `<<`: not constructed itself, merged by SafeConstructor.flatten_mapping
SAFE_TAGS = frozenset([_MERGE, *(t for t in yaml.constructor.SafeConstructor.yaml_constructors if t is not None)])
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
    longest = max(map(len, text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def depth_within(text: str, limit: int) -> bool:
    """`depth_bound(text) <= limit`, without splitting the text into lines: for big texts, the check that costs.

    The bound is at most the limit when no line is longer than `room` (below). Scanning backwards from the end of
    each window of room + 1 characters for its last line break skips every short line of the window at once, so
    an ordinary file takes one C search per ~room characters. Any line break but `\n` (which splitlines counts as
    well) only makes the lines seen here longer: a text with those goes to `depth_bound` itself.
    """
    room = (limit - 2 - text.count("[") - text.count("{")) // 2  # the longest line the limit allows
    if room < 0:
        return False
    at, end = 0, len(text)
    while end - at > room:
        nl = text.rfind("\n", at, at + room + 1)
        if nl < 0:
            return depth_bound(text) <= limit
        at = nl + 1
    return True


def check_text(text: str, path: str, *, size: bool = True) -> None:
    """Size limit of a whole stream, and a nesting pre-scan where libyaml's recursive composer could crash.

    Below COMPOSER_SAFE_DEPTH the composer is safe and MAX_DEPTH is checked on the composed nodes instead, while
    values are built from them (kharden.read.fastload.read_document), which costs nothing extra; the exact event scan runs only for the rare
    text whose cheap bound exceeds it.
    """
    if size:
        check_size(len(text), path)
    if not depth_within(text, COMPOSER_SAFE_DEPTH):
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
                    raise depth_error(event, path, max(doc, 0))  # type: ignore[arg-type]  # it reads the event's marks only
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return
    finally:
        loader.dispose()


def check_nodes(root: yaml.Node, path: str, doc: int) -> None:
    """Refuse unsafe tags, huge scalars and deep nesting in one composed document, before construction.

    The reader (kharden.read.fastload.read_document) checks plain documents as it builds them and calls this only
    for documents with aliases or anything unusual.

    One iterative pass, each node once. A node met twice means aliases: only then is the costlier expansion check
    (cycles, alias bombs, depth once expanded) run (kharden.read.check_expansion).
    """
    seen: set[int] = set()
    aliased = False
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:
            aliased = True
            continue
        seen.add(id(node))
        if node.tag not in SAFE_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise error_at(node, f"tag {tag} is not allowed: kharden reads only plain YAML values", path, doc)
        if isinstance(node, yaml.ScalarNode):
            check_scalar(node, path, doc)
            continue
        if depth > MAX_DEPTH:
            raise depth_error(node, path, doc)
        if isinstance(node, yaml.MappingNode):
            stack.extend((n, depth + 1) for pair in node.value for n in pair)
        else:
            stack.extend((n, depth + 1) for n in node.value)
    if aliased:
        check_expansion(root, path, doc, len(seen))


def _children(node: yaml.Node) -> list[Any]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        items: list[Any] = node.value
        return items
    return []


def check_scalar(node: yaml.ScalarNode, path: str, doc: int) -> None:
    if len(node.value) > MAX_SCALAR_CHARS:
        raise scalar_error(node, path, doc)


def scalar_error(node: yaml.Node, path: str, doc: int) -> InputError:
    return error_at(node, f"value longer than {MAX_SCALAR_CHARS // (1024 * 1024)} MiB"
                    " (kharden.read.limits.MAX_SCALAR_CHARS)", path, doc)


def depth_error(node: yaml.Node, path: str, doc: int) -> InputError:
    return error_at(node, f"nesting deeper than {MAX_DEPTH} levels (kharden.read.limits.MAX_DEPTH)", path, doc)


def check_expansion(root: yaml.Node, path: str, doc: int, distinct: int) -> None:
    """For a document that uses aliases: refuse cycles, alias bombs, and nesting too deep once expanded.

    Iterative depth-first walk over the node graph; each distinct node is sized once (memoised by identity),
    so a billion-laughs document costs as much as its few dozen distinct nodes.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            size[key] = 1 + sum(size[id(c)] for c in children)
            nested = isinstance(node, (yaml.MappingNode, yaml.SequenceNode))  # levels count collections only
            height[key] = 1 + max((height[id(c)] for c in children), default=0) if nested else 0
            if len(on_path) + height[key] > MAX_DEPTH:
                raise depth_error(node, path, doc)
        elif key in on_path:
            raise error_at(node, "an alias refers to a node that contains it (recursive alias)", path, doc)
        elif key not in size:
            on_path.add(key)
            stack.append((node, True))
            stack.extend((c, False) for c in reversed(_children(node)) if id(c) not in size)
    budget = max(MAX_EXPANDED_NODES, EXPANSION_FACTOR * distinct)
    if size[id(root)] > budget:
        raise error_at(root, f"aliases expand to more than {budget:,} nodes (alias bomb?);"
                       " kharden.read.limits.MAX_EXPANDED_NODES", path, doc)


def error_at(node: yaml.Node, message: str, path: str, doc: int) -> InputError:
    mark = node.start_mark
    return InputError(message, file=path, doc=doc, line=mark.line + 1, column=mark.column + 1)
