"""The faithful renderer: edits land in the original text; everything else stays byte-identical."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import yaml

from kharden.errors import KhardenError
from kharden.model import Change
from kharden.mutators.base import Editor
from kharden.read import parse_text
from kharden.render.splice import render, verify


def edit(text: str, fn: Callable[[Editor], Any], path: str = "t.yaml") -> str:
    source = parse_text(text, path)
    changes: list[Change] = []
    for obj in source.objects():
        fn(Editor(obj, "test", changes))
    out = render(source, changes)
    verify(source, out)
    return out


def test_adds_key_after_last_entry_keeping_comments() -> None:
    text = "spec:\n  containers:\n  - name: web   # the app\n    image: nginx  # pinned\n  # trailing\nstatus: {}\n"
    out = edit(text, lambda e: e.ensure(("spec", "containers", 0, "securityContext", "privileged"), False, "r"))
    assert out == (
        "spec:\n  containers:\n  - name: web   # the app\n    image: nginx  # pinned\n"
        "    securityContext:\n      privileged: false\n  # trailing\nstatus: {}\n"
    )


def test_untouched_lines_are_byte_identical_with_odd_indentation() -> None:
    text = "a:\n    b:   1\n    c:\n       - x\n       - 'y'\nd: \"yes\"\n"
    out = edit(text, lambda e: e.ensure(("a", "z"), "on", "r"))
    assert out == text.replace("       - 'y'\n", "       - 'y'\n    z: \"on\"\n")


@pytest.mark.parametrize(
    "value, rendered",
    [("yes", '"yes"'), ("0644", '"0644"'), ("1.10", '"1.10"'), ("~", '"~"'), ("RuntimeDefault", "RuntimeDefault"),
     (420, "420"), (True, "true"), ("", '""'), ("a: b", '"a: b"'), ("100m", "100m")],
)
def test_new_scalars_read_back_as_the_same_yaml_1_1_value(value: Any, rendered: str) -> None:
    out = edit("k: 1\n", lambda e: e.ensure(("v",), value, "r"))
    assert out == f"k: 1\nv: {rendered}\n"
    assert yaml.safe_load(out)["v"] == value


def test_crlf_and_bom_are_kept() -> None:
    text = "\ufeffa:\r\n  b: 1\r\n"
    source = parse_text(text, "t.yaml")
    changes: list[Change] = []
    Editor(next(source.objects()), "t", changes).ensure(("a", "c"), 2, "r")
    out = render(source, changes)
    assert out == "\ufeffa:\r\n  b: 1\r\n  c: 2\r\n"


def test_null_and_empty_flow_values_become_block_mappings() -> None:
    text = "x:\n  sc:\n  other: 1\ny:\n  sc: {}\n"
    out = edit(text, lambda e: (e.ensure(("x", "sc", "a"), 1, "r"), e.ensure(("y", "sc", "a"), 1, "r")))
    assert out == "x:\n  sc:\n    a: 1\n  other: 1\ny:\n  sc:\n    a: 1\n"


def test_non_empty_flow_collections_stay_flow() -> None:
    text = "c:\n  drop: [NET_RAW]\n  m: {a: 1}\n"
    out = edit(text, lambda e: (e.append(("c", "drop"), "ALL", "r"), e.ensure(("c", "m", "b"), 2, "r")))
    assert out == "c:\n  drop: [NET_RAW, ALL]\n  m: {a: 1, b: 2}\n"


def test_sequence_style_of_the_document_is_followed() -> None:
    indented = "a:\n  l:\n    - x\n"
    out = edit(indented, lambda e: e.ensure(("a", "new"), ["y"], "r"))
    assert out == "a:\n  l:\n    - x\n  new:\n    - y\n"
    flush = "a:\n  l:\n  - x\n"
    out = edit(flush, lambda e: e.ensure(("a", "new"), ["y"], "r"))
    assert out == "a:\n  l:\n  - x\n  new:\n  - y\n"


def test_append_mapping_item_to_block_sequence() -> None:
    text = "vols:\n- name: a  # first\n  emptyDir: {}\nz: 1\n"
    out = edit(text, lambda e: e.append(("vols",), {"name": "b", "emptyDir": {}}, "r"))
    assert out == "vols:\n- name: a  # first\n  emptyDir: {}\n- name: b\n  emptyDir: {}\nz: 1\n"


def test_replace_keeps_quote_style() -> None:
    out = edit("t: 'Unconfined'\np: true\n", lambda e: (e.replace(("t",), "RuntimeDefault", "r"),
                                                        e.replace(("p",), False, "r")))
    assert out == "t: 'RuntimeDefault'\np: false\n"


def test_remove_entry_deletes_its_lines_only() -> None:
    text = "ann:\n  a: 1  # keep\n  b: |\n    multi\n    line\n  c: 3\n"
    out = edit(text, lambda e: e.remove(("ann", "b"), "r"))
    assert out == "ann:\n  a: 1  # keep\n  c: 3\n"


def test_removing_the_last_entry_leaves_an_empty_mapping() -> None:
    out = edit("meta:\n  ann:\n    a: 1\n  name: x\n", lambda e: e.remove(("meta", "ann", "a"), "r"))
    assert yaml.safe_load(out) == {"meta": {"ann": {}, "name": "x"}}
    assert out.endswith("  name: x\n")


def test_block_scalar_before_insertion_point() -> None:
    text = "a:\n  s: |\n    keep me\n\nb: 1\n"
    out = edit(text, lambda e: e.ensure(("a", "t"), 1, "r"))
    assert yaml.safe_load(out) == {"a": {"s": "keep me\n", "t": 1}, "b": 1}
    assert out.startswith("a:\n  s: |\n    keep me\n")


def test_json_documents_get_json() -> None:
    text = '{\n  "kind": "Pod",\n  "spec": {\n    "containers": []\n  }\n}\n'
    out = edit(text, lambda e: e.ensure(("spec", "securityContext", "runAsNonRoot"), True, "r"), "p.json")
    assert out == (
        '{\n  "kind": "Pod",\n  "spec": {\n    "containers": [],\n'
        '    "securityContext": {\n      "runAsNonRoot": true\n    }\n  }\n}\n'
    )


def test_octal_and_other_yaml_1_1_values_are_untouched() -> None:
    text = "mode: 0644\nflag: on\ns: \"on\"\nv: 1.10\n"
    out = edit(text, lambda e: e.ensure(("new",), 1, "r"))
    assert out == text + "new: 1\n"
    assert yaml.safe_load(out)["mode"] == 420


def test_list_items_in_a_kind_list_are_edited_in_place() -> None:
    text = "kind: List\nitems:\n- kind: Pod\n  spec: {}\n- kind: Pod\n  spec:\n    x: 1\n"
    out = edit(text, lambda e: e.ensure(("spec", "y"), 2, "r"))
    assert yaml.safe_load(out)["items"] == [{"kind": "Pod", "spec": {"y": 2}}, {"kind": "Pod", "spec": {"x": 1, "y": 2}}]


def test_verify_refuses_text_that_does_not_read_back() -> None:
    source = parse_text("a: 1\n", "t.yaml")
    source.docs[0].data["a"] = 2  # an edit that was never spliced
    with pytest.raises(KhardenError, match="does not read back"):
        verify(source, "a: 1\n")


def test_insertion_after_a_removed_last_entry() -> None:
    text = "c:\n  ports:\n  - containerPort: 80\n    hostPort: 80\nz: 1\n"
    out = edit(text, lambda e: (e.remove(("c", "ports", 0, "hostPort"), "r"), e.ensure(("c", "sc"), {"a": 1}, "r")))
    assert out == "c:\n  ports:\n  - containerPort: 80\n  sc:\n    a: 1\nz: 1\n"


@pytest.mark.parametrize("header, stripped", [("|", "|-"), ("|+", "|-"), (">", ">-"), ("|2", "|2-"), ("|-", "|-"),
                                              ("!!str |", "!!str |-")])
def test_keys_added_after_a_block_scalar_that_ends_the_text_without_a_line_break(header: str, stripped: str) -> None:
    """The new lines start with a line break, which the scalar would take in: its header strips instead."""
    from kharden.run import fix_sources

    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n"
           f"    args:\n    - sh\n    - {header}\n      echo hi")
    outcome = fix_sources([parse_text(pod, "p.yaml")], "restricted", generate=False)
    out = outcome.text_of(outcome.result.sources[0])
    assert out.startswith(pod.replace(f"- {header}\n", f"- {stripped}\n") + "\n    securityContext:")
    assert yaml.safe_load(out)["spec"]["containers"][0]["args"] == ["sh", "echo hi"]
    again = fix_sources([parse_text(out, "p.yaml")], "restricted", generate=False)
    assert not again.result.changes


def test_an_output_larger_than_the_input_limit_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Limits guard input, not output: hardening adds lines, so an input just under the reader's size limit can come
    out over it (a 7 MB stream of 20,000 short objects came out over 16 MiB and failed). It is written, read back
    and verified all the same."""
    from kharden import run
    from kharden.read import limits

    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: c, image: i}\n"
    monkeypatch.setattr(limits, "MAX_FILE_BYTES", len(text) + 10)
    out = run.fix_sources([parse_text(text, "p.yaml")], "restricted", generate=False).outputs["p.yaml"]
    assert len(out) > limits.MAX_FILE_BYTES
    assert yaml.safe_load(out)["spec"]["securityContext"]["runAsNonRoot"] is True


def test_emitted_blocks_are_remembered_by_value_column_and_style() -> None:
    """emit.block writes each block once per process; values that compare equal but are written differently
    (True and 1, 1.0 and 1, "1" and 1, other key orders) each get their own lines, and a caller may change the
    lines it gets without changing the next caller's."""
    from kharden.render import emit
    from kharden.render.emit import Style

    def fresh(value: Any, col: int, style: Style) -> list[str]:
        lines: list[str] = []
        emit._block(value, col, style, lines)
        return lines

    values: list[Any] = [{"a": True}, {"a": 1}, {"a": 1.0}, {"a": "1"}, {"a": 1, "b": 2}, {"b": 2, "a": 1},
                         [{"x": None}], [{"x": []}], {"k": {"n": [1, "yes"]}}]
    for style in (Style(), Style(indent=4, seq_indent=2)):
        for col in (0, 6):
            for value in values:
                got = emit.block(value, col, style)
                assert got == fresh(value, col, style)
                got.append("changed by the caller")
                assert emit.block(value, col, style) == fresh(value, col, style)
    assert emit.block({"a": True}, 0, Style()) != emit.block({"a": 1}, 0, Style())
