"""Nothing lost, by property: hypothesis writes manifests the way people do, kharden fixes them, and

- nothing raises but kharden's own errors;
- every input leaf keeps its YAML 1.1 value, except the deliberate changes: the recorded Changes, applied as JSON
  patches to the input objects, give exactly the objects a YAML 1.1 reader finds in the output;
- `fix` is idempotent: a second run changes nothing and returns the text byte for byte;
- an object that was schema-valid (Kubernetes OpenAPI, offline) stays schema-valid;
- and, on corpus manifests with values of the wrong type swapped in: `fix` raises only kharden's own errors, and
  the checks judge the objects the validator calls well-formed without crashing.

The generated text varies what a faithful fixer must not trip on: every pod kind, `kind: List`, several documents,
YAML 1.1 edge scalars quoted and unquoted (yes/no/on/off/y/n/~/0644/0x1F/1_000/1:20/.inf/2001-12-14),
block scalars, flow collections, comments on their own line and after values, indentation 2 or 4 with indented
or flush sequences, anchors and aliases, CRLF and a BOM.

CI runs 100 examples (about 15 s); a longer run: KHARDEN_HYPOTHESIS_EXAMPLES=5000 python -m pytest
tests/test_properties.py
"""

from __future__ import annotations

import copy
import functools
import math
import os
import re
from typing import Any, Iterator, Union

import jsonpatch
import pytest
import yaml
from deepdiff import DeepDiff
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from kharden.errors import KhardenError
from kharden.profile import Profile, load_profile
from kharden.read import parse_text
from tests.damage import corpus_texts, damage

SCHEMA_VERSION = "1.37.0"  # the newest schema kubernetes-validate ships offline
EXAMPLES = int(os.environ.get("KHARDEN_HYPOTHESIS_EXAMPLES", "100"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="KHARDEN_HYPOTHESIS_EXAMPLES" not in os.environ,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# -- scalar tokens: the text as written; YAML 1.1 decides what it means -------------------------------------------
EDGE = ["yes", "no", "on", "off", "y", "n", "Y", "NO", "On", "true", "False", "~", "null", "0644", "0x1F", "1_000",
        "1:20", "190:20:30", ".inf", "-.inf", ".NaN", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "1e3", "+12",
        "1.10", "0.5", "-0", "012345", "0b101"]
WORDS = ["web", "nginx:1.25", "a b c", "/tmp", "100m", "64Mi", "v1.2", "x-y_z", "http://example.com/a"]
QUOTED = [f'"{w}"' for w in EDGE + WORDS] + [f"'{w}'" for w in EDGE + WORDS] + ['"tab\\there"', "'it''s'"]
BOOLS = ["true", "false", "yes", "no", "on", "off", "True", "FALSE", "Off"]
UIDS = ["0", "1000", "0x3E8", "01750", "1_000", "10001", "+10001", "65534"]
CAPS = ["ALL", "NET_RAW", "NET_BIND_SERVICE", "SYS_ADMIN", "CHOWN"]

Node = Union[tuple, str]  # ("m", items, flow) | ("l", items, flow) | ("b", header, lines) | scalar token str
flow_leaf = st.sampled_from([t for t in EDGE + WORDS + QUOTED if ":" not in t])  # `a:b` is not plain in flow
block_lines = st.lists(st.sampled_from(["one", "two words", "yes", "#not a comment", "  indented", "key: value"]),
                       min_size=1, max_size=3).map(lambda xs: ["first"] + xs)  # the first line sets the indentation
string_leaf = st.one_of(st.sampled_from(QUOTED + WORDS),
                        st.tuples(st.just("b"), st.sampled_from(["|", "|-", ">", ">-", "|+"]), block_lines))
any_leaf = st.one_of(flow_leaf, string_leaf)
comment = st.sampled_from([None, None, None, "eol", "line"])


def mapping(fields: list[tuple[str, Any]], flow: bool = False) -> st.SearchStrategy:
    """A mapping of the given (key, strategy) pairs, each with an optional comment; a None value drops the key."""
    parts = [st.tuples(st.just(k), v, comment) for k, v in fields]
    return st.tuples(*parts).map(lambda items: ("m", [i for i in items if i[1] is not None], flow))


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.none(), strategy)


def flowable(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """Sometimes written as a flow collection, when everything inside can be."""
    return st.tuples(strategy, st.booleans()).map(lambda t: _as_flow(t[0]) if t[1] and _flowable(t[0]) else t[0])


def _flowable(node: Node) -> bool:
    if isinstance(node, str):
        return node != ""
    if node[0] == "b":
        return False
    items = node[1] if node[0] == "l" else [v for _, v, _ in node[1]]
    return all(_flowable(v) for v in items)


def _as_flow(node: Node) -> Node:
    return node if isinstance(node, str) else (node[0], node[1], True)


@st.composite
def keyed(draw: Any, keys: list[str], values: st.SearchStrategy, max_size: int = 3) -> Node:
    """A block mapping of 1..max_size distinct keys, each with a drawn value and comment."""
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=max_size, unique=True))
    return ("m", [(k, draw(values), draw(comment)) for k in chosen], False)


def listed(item: st.SearchStrategy, max_size: int = 3) -> st.SearchStrategy:
    return st.lists(item, min_size=1, max_size=max_size).map(lambda xs: ("l", xs, False))


extra = st.recursive(any_leaf, lambda kids: flowable(st.one_of(
    listed(kids), keyed(["a", "b", "on", "2", "x-key"], kids))), max_leaves=6)
null_token = st.sampled_from(["", "~", "null", "{}"])
bool_ = st.sampled_from(BOOLS)
caps = flowable(listed(st.sampled_from(CAPS), 2))
POD_SC = st.one_of(null_token, flowable(mapping([
    ("runAsNonRoot", maybe(bool_)), ("runAsUser", maybe(st.sampled_from(UIDS))),
    ("fsGroup", maybe(st.sampled_from(UIDS))),
    ("seccompProfile", maybe(flowable(mapping([("type", st.sampled_from(["RuntimeDefault", "Unconfined"]))])))),
])))
CONTAINER_SC = st.one_of(null_token, flowable(mapping([
    ("runAsNonRoot", maybe(bool_)), ("runAsUser", maybe(st.sampled_from(UIDS))),
    ("allowPrivilegeEscalation", maybe(bool_)), ("privileged", maybe(bool_)),
    ("readOnlyRootFilesystem", maybe(bool_)),
    ("capabilities", maybe(flowable(mapping([("drop", maybe(caps)), ("add", maybe(caps))])))),
])))
TMP_MOUNT = ("l", [("m", [("name", "tmp", None), ("mountPath", "/tmp", None)], False)], False)
CONTAINER = mapping([
    ("name", st.just("c")), ("image", st.sampled_from(["nginx", '"nginx:1.25"', "'busybox'"])),
    ("args", maybe(flowable(listed(string_leaf)))),
    ("env", maybe(st.sampled_from(["A", "B_1"]).flatmap(
        lambda n: mapping([("name", st.just(n)), ("value", string_leaf)])).map(lambda m: ("l", [m], False)))),
    ("securityContext", maybe(CONTAINER_SC)),
    ("resources", maybe(flowable(mapping([("limits", maybe(mapping([
        ("cpu", st.sampled_from(["100m", "1", "0.5"])), ("memory", st.just("64Mi"))])))])))),
    ("volumeMounts", maybe(st.just(TMP_MOUNT))),
    ("x-extra", maybe(extra)),
])


def _named(containers: list[Node], prefix: str) -> Node:
    """Give each container a distinct name (the first entry of each generated container is its name)."""
    return ("l", [("m", [("name", f"{prefix}{i}", c[1][0][2])] + c[1][1:], c[2]) for i, c in enumerate(containers)],
            False)


POD_SPEC = mapping([
    ("securityContext", maybe(POD_SC)),
    ("hostNetwork", maybe(bool_)), ("automountServiceAccountToken", maybe(bool_)),
    ("os", maybe(st.sampled_from([("m", [("name", "linux", None)], False), ("m", [("name", "windows", None)], True)]))),
    ("initContainers", maybe(st.lists(CONTAINER, min_size=1, max_size=1).map(lambda cs: _named(cs, "init")))),
    ("containers", st.lists(CONTAINER, min_size=1, max_size=2).map(lambda cs: _named(cs, "c"))),
    ("volumes", maybe(st.just(("l", [("m", [("name", "tmp", None), ("emptyDir", "{}", None)], False)], False)))),
    ("x-extra", maybe(extra)),
])
METADATA = mapping([
    ("name", st.just("x")), ("namespace", maybe(st.just("apps"))),
    ("labels", maybe(st.just(("m", [("app", "web", None)], False)))),
    ("annotations", maybe(keyed(["a.example.com/x", "b", "yes"], string_leaf, 2))),
])


KINDS = {"Pod": "v1", "PodTemplate": "v1", "ReplicationController": "v1", "Deployment": "apps/v1",
         "StatefulSet": "apps/v1", "DaemonSet": "apps/v1", "ReplicaSet": "apps/v1", "Job": "batch/v1",
         "CronJob": "batch/v1"}
LABELS: Node = ("m", [("app", "web", None)], False)
# Tokens are raw text, so an anchor and its alias are tokens too: the template's labels repeat the selector's.
ANCHORED_LABELS, ALIASED_LABELS = "&sel {app: web}", "*sel"


@st.composite
def k8s_object(draw: Any) -> Node:
    kind = draw(st.sampled_from(sorted(KINDS)))
    head = [("apiVersion", KINDS[kind], None), ("kind", kind, draw(comment)),
            ("metadata", draw(METADATA), draw(comment))]
    spec = draw(POD_SPEC)
    anchored = draw(st.booleans()) and kind not in ("Pod", "PodTemplate", "Job", "ReplicationController", "CronJob")
    labels = ALIASED_LABELS if anchored else LABELS
    template = ("m", [("metadata", ("m", [("labels", labels, None)], False), None),
                      ("spec", spec, draw(comment))], False)
    if kind == "Pod":
        body = [("spec", spec, None)]
    elif kind == "PodTemplate":
        body = [("template", template, None)]
    elif kind == "CronJob":
        job = ("m", [("template", template, None)], False)
        body = [("spec", ("m", [("schedule", '"*/5 * * * *"', "eol"),
                                ("jobTemplate", ("m", [("spec", job, None)], False), None)], False), None)]
    else:
        selector = ("m", [("matchLabels", ANCHORED_LABELS if anchored else LABELS, None)], False)
        sel = [] if kind in ("Job", "ReplicationController") else [("selector", selector, None)]
        body = [("spec", ("m", sel + [("template", template, None)], False), None)]
    tail = [("x-extra", draw(extra), None)] if draw(st.booleans()) else []
    return ("m", head + body + tail, False)


@st.composite
def manifest(draw: Any) -> str:
    style = Style(indent=draw(st.sampled_from([2, 4])), flush_seqs=draw(st.booleans()))
    objects = [_anchor_suffix(o, str(i)) for i, o in enumerate(draw(st.lists(k8s_object(), min_size=1, max_size=3)))]
    if draw(st.booleans()) and len(objects) > 1:
        docs = [("m", [("apiVersion", "v1", None), ("kind", "List", None), ("items", ("l", objects, False), None)],
                 False)]
    else:
        docs = objects
    parts = []
    for i, doc in enumerate(docs):
        lead = draw(st.sampled_from(["", "---\n", "# Source: chart/templates/x.yaml\n"]))
        parts.append(("---\n" if i and not lead.startswith("---") else "") + lead + style.block(doc, 0))
    text = "".join(parts)
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if draw(st.booleans()) else "") + text


def _anchor_suffix(node: Node, suffix: str) -> Node:
    """Each object its own anchor name: the objects of a List share one document, where anchors must be unique."""
    if isinstance(node, str):
        return node.replace("&sel ", f"&sel{suffix} ").replace("*sel", f"*sel{suffix}") if "sel" in node else node
    if node[0] == "m":
        return ("m", [(k, _anchor_suffix(v, suffix), c) for k, v, c in node[1]], node[2])
    if node[0] == "l":
        return ("l", [_anchor_suffix(v, suffix) for v in node[1]], node[2])
    return node


class Style:
    """Writes the node tree as block YAML, in one of the ways people indent it."""

    def __init__(self, indent: int, flush_seqs: bool) -> None:
        self.w, self.flush = indent, flush_seqs

    def block(self, node: Node, ind: int) -> str:
        if node[0] == "m":
            return "".join(self.entry(k, v, c, ind) for k, v, c in node[1])
        return "".join(self.item(v, ind) for v in node[1])

    def entry(self, key: str, value: Node, note_: str | None, ind: int) -> str:
        pad = " " * ind
        before = f"{pad}# about {key}\n" if note_ == "line" else ""
        eol = "  # note" if note_ == "eol" else ""
        if isinstance(value, str) or value[2] is True or not value[1]:
            return f"{before}{pad}{key}: {self.inline(value)}{eol}\n".replace(": \n", ":\n").replace(":   #", ":  #")
        if value[0] == "b":
            return f"{before}{pad}{key}: {value[1]}{eol}\n" + "".join(f"{pad}{' ' * self.w}{x}\n" for x in value[2])
        child = ind + (0 if value[0] == "l" and self.flush else self.w)
        return f"{before}{pad}{key}:{eol}\n" + self.block(value, child)

    def item(self, value: Node, ind: int) -> str:
        pad = " " * ind
        if isinstance(value, str) or value[2] is True or not value[1]:
            return f"{pad}- {self.inline(value) or '~'}\n"
        if value[0] == "b":
            return f"{pad}- {value[1]}\n" + "".join(f"{pad}  {x}\n" for x in value[2])
        if value[0] == "l":
            return f"{pad}-\n" + self.block(value, ind + 2)
        first, *rest = value[1]
        text = self.entry(first[0], first[1], "eol" if first[2] == "eol" else None, ind + 2)
        return pad + "- " + text[ind + 2:] + self.block(("m", rest, False), ind + 2)

    def inline(self, node: Node) -> str:
        if isinstance(node, str):
            return node
        if node[0] == "l":
            return "[" + ", ".join(self.inline(v) or "~" for v in node[1]) + "]"
        return "{" + ", ".join(f"{k}: {self.inline(v) or '~'}" for k, v, _ in node[1]) + "}"


# -- the properties ---------------------------------------------------------------------------------------------
def hardening_profile() -> Profile:
    """The restricted profile once it ships; until then every registered mutator, enabled with its defaults."""
    try:
        return load_profile("restricted")
    except (KhardenError, OSError):
        from kharden.mutators import MUTATOR_OPTIONS

        mutators = {m: cls(enabled=True) for m, cls in MUTATOR_OPTIONS.items()}
        return Profile("all", "every mutator", "restricted", {}, mutators, {})


PROFILE = hardening_profile()


def pipeline_ready() -> bool:
    """True once mutators are registered and the pipeline's opt-out runner exists (both land from other branches)."""
    try:
        import kharden.mutators.optouts  # noqa: F401
    except ImportError:
        return False
    from kharden.mutators import MUTATORS

    return bool(MUTATORS)


def fix_text(text: str) -> tuple[list[Any], str]:
    """(changes, output text) of `kharden fix` on one file, through the same code as the CLI (kharden.run).

    Until the pipeline is complete, a stand-in makes typical mutator edits through the Editor, so the reader,
    validator and splice renderer are exercised all the same.
    """
    source = parse_text(text, "gen.yaml")
    if pipeline_ready():
        from kharden.run import fix_sources

        outcome = fix_sources([source], PROFILE, generate=False)
        return outcome.result.changes, outcome.text_of(source)
    from kharden.read.validate import validate_source
    from kharden.render.splice import render, verify

    errors = validate_source(source)
    if errors:
        raise errors[0]
    changes = stand_in_changes(source)
    if not changes:
        return [], ("\ufeff" if source.bom else "") + source.text
    out = render(source, changes)
    verify(source, out)
    return changes, out


def stand_in_changes(source: Any) -> list[Any]:
    from kharden.find import find_pod_targets
    from kharden.mutators.base import Editor

    changes: list[Any] = []
    for obj in source.objects():
        for target in find_pod_targets(obj):
            edit = Editor(obj, "standIn", changes)
            edit.ensure(target.spec_path + ("securityContext", "runAsNonRoot"), True, "stand-in")
            for path, _ in target.containers():
                edit.ensure(path + ("securityContext", "allowPrivilegeEscalation"), False, "stand-in")
                edit.ensure(path + ("resources", "limits", "memory"), "128Mi", "stand-in")
    return changes


def load_all(text: str) -> list[Any]:
    """An independent YAML 1.1 reading (PyYAML's safe loader on libyaml), not kharden's own reader."""
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def canon(value: Any) -> Any:
    """NaN is not equal to itself: compare it as a marker."""
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    if isinstance(value, dict):
        return {k: canon(v) for k, v in value.items()}
    if isinstance(value, list):
        return [canon(v) for v in value]
    return value


def expected_documents(text: str, changes: list[Any]) -> list[Any]:
    """The input as a YAML 1.1 reader sees it, with each object's recorded changes applied as its JSON patch."""
    docs = load_all(text)
    for change in changes:
        doc = docs[change.obj.doc]
        if change.obj.item is None:
            docs[change.obj.doc] = jsonpatch.apply_patch(doc, [change.patch_op()])
        else:
            doc["items"][change.obj.item] = jsonpatch.apply_patch(doc["items"][change.obj.item], [change.patch_op()])
    return docs


@SETTINGS
@given(manifest())
def test_fix_loses_nothing_is_idempotent_and_stays_schema_valid(text: str) -> None:
    note(text)
    try:
        changes, out = fix_text(text)
    except KhardenError as e:
        event(f"kharden refused: {type(e).__name__}: {e.message[:90]}")
        note(str(e))
        return
    event("changed" if changes else "unchanged")
    note(out)
    expected, actual = canon(expected_documents(text, changes)), canon(load_all(out))
    assert expected == actual, DeepDiff(expected, actual, verbose_level=2).pretty()
    again, out2 = fix_text(out)
    assert again == [] and out2 == out, "a second run changed something"
    if not changes:
        assert out == text, "no change recorded, yet the text differs"
    assert_still_schema_valid(text, out)


def assert_still_schema_valid(before_text: str, after_text: str) -> None:
    """Every object that validated against the Kubernetes 1.37 OpenAPI schema (offline) before still does."""
    for before, after in zip(_objects(before_text), _objects(after_text)):
        check = schema_validator(before["apiVersion"], before["kind"])
        if not check.is_valid(before):
            event("an input object is not schema-valid")
            continue
        errors = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in check.iter_errors(after)]
        assert not errors, errors


@functools.lru_cache(maxsize=None)
def schema_validator(api_version: str, kind: str) -> Any:
    """kubernetes_validate's offline schema for (apiVersion, kind), compiled once: its validate() recompiles each
    call (25 ms), which would make this test ten times slower."""
    import jsonschema
    from kubernetes_validate import utils
    from referencing import Registry, Resource

    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    folder = f"kubernetes-json-schema/v{SCHEMA_VERSION}-local"
    schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", SCHEMA_VERSION)
    definitions = utils.schema_contents(f"{folder}/_definitions.json", SCHEMA_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _objects(text: str) -> list[dict[str, Any]]:
    out = []
    for doc in load_all(text):
        out += doc["items"] if doc.get("kind") == "List" else [doc]
    return out


def test_generator_writes_what_it_means() -> None:
    """The generator itself: a known sample parses, and its edge scalars mean what YAML 1.1 says."""
    node = ("m", [("a", "0644", None), ("b", '"0644"', "eol"), ("c", ("l", ["on", "'off'"], True), "line"),
                  ("d", ("b", "|-", ["first", "  x"]), None), ("e", ("l", [("m", [("k", "1_000", "eol"),
                                                                                  ("j", "", None)], False)], False),
                                                                None)], False)
    for style in (Style(2, True), Style(4, False)):
        assert yaml.safe_load(style.block(node, 0)) == {
            "a": 420, "b": "0644", "c": [True, "off"], "d": "first\n  x", "e": [{"k": 1000, "j": None}]}


# -- ill-typed input: refused with a located error, or handled; never a crash -----------------------------------
WRONG_VALUES = ["x", 5, True, None, [], {}, ["a"], {"a": 1}, "{{ .Values.x }}"]


CORPUS_TEXTS = corpus_texts()


def _leaf_paths(data: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield from _leaf_paths(value, path + (key,))


@settings(SETTINGS, max_examples=max(EXAMPLES // 2, 1))
@given(st.sampled_from(range(len(CORPUS_TEXTS)) or [0]),
       st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(WRONG_VALUES)), min_size=1, max_size=3))
def test_ill_typed_input_is_refused_or_handled(index: int, damage: list[tuple[int, Any]]) -> None:
    """A corpus manifest with values swapped for ones of the wrong type: `fix` raises only kharden's own errors,
    and `check` judges the objects split_objects calls well-formed without any error at all."""
    if not CORPUS_TEXTS:
        pytest.skip("corpus not present")
    docs = [d for d in load_all(CORPUS_TEXTS[index]) if isinstance(d, dict)]
    for pick, value in damage:
        paths = [p for d in docs for p in _leaf_paths(d) if p]
        if not paths:
            break
        path = paths[pick % len(paths)]
        owner = next(d for d in docs if path in set(_leaf_paths(d)))
        for key in path[:-1]:
            owner = owner[key]
        owner[path[-1]] = copy.deepcopy(value)  # shared objects would become anchors, or cycles
    text = yaml.safe_dump_all(docs, sort_keys=False)
    note(text)
    from kharden.checks.pss import check_objects
    from kharden.checks.rbac import check_rbac
    from kharden.read.validate import split_objects
    from kharden.run import fix_sources

    try:
        fix_sources([parse_text(text, "m.yaml")], PROFILE, generate=True)
    except KhardenError as e:
        event(f"fix refused: {type(e).__name__}")
    good, problems = split_objects(parse_text(text, "m.yaml"))
    event("some objects broken" if problems else "all objects well-formed")
    check_objects(good, "restricted", "latest", None)
    check_rbac(good)


TOKENS = ["", " ", "  ", "-", "- ", ": ", '"', "'", "|", ">", "{", "}", "[", "]", "&a ", "*a", "!!str ", "#", "\t",
          "? ", "null", "~", "yes", "0644", "- name: x", "securityContext: {}", "securityContext:", "containers: []",
          'runAsUser: "0"', "privileged: yes", "capabilities: {add: [ALL]}", "{{ .Values.x }}"]
EDITS = st.tuples(st.sampled_from(["delete", "repeat", "insert", "indent", "dedent", "value"]),
                  st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(TOKENS))


@settings(SETTINGS, max_examples=max(EXAMPLES // 2, 1))
@given(st.sampled_from(range(len(CORPUS_TEXTS)) or [0]), st.lists(EDITS, min_size=1, max_size=3))
def test_damaged_text_is_refused_clearly_or_fixed_for_good(index: int, edits: list[tuple[str, int, int, str]]) -> None:
    """A corpus file with lines deleted, repeated, shifted or garbled (broken syntax, wrong types, templates): every
    mode raises only kharden's own errors, never a traceback; and what `fix` accepts it fixes for good (a second
    `fix` of its output changes nothing). A fuzz loop of this kind over 130,000 inputs found a memory leak (sources
    kept by reference cycles) and nothing else."""
    if not CORPUS_TEXTS:
        pytest.skip("corpus not present")
    text = damage(CORPUS_TEXTS[index], edits)
    note(text)
    from kharden.checks.pss import check_objects
    from kharden.read.validate import split_objects
    from kharden.run import fix_sources

    try:
        outcome = fix_sources([parse_text(text, "m.yaml")], PROFILE, generate=True)
    except KhardenError as e:
        event(f"fix refused: {type(e).__name__}")
    else:
        event("fixed")
        out = outcome.stream()
        outcome.diff(), outcome.jsonpatch()
        assert not fix_sources([parse_text(out, "m.yaml")], PROFILE, generate=True).outputs
    try:
        good, _ = split_objects(parse_text(text, "m.yaml"))
    except KhardenError:
        return
    check_objects(good, "restricted", "latest", None)
