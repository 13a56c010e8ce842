"""Broken input ends in one located line (file, document, line, column), never a traceback or a silent guess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest

from kharden.errors import InputError, KhardenError
from kharden.read.source import parse_text, read_text_file
from kharden.read.validate import TEMPLATE_ADVICE, split_objects, validate_source

from tests.conftest import CORPUS, DEPLOYMENT, corpus_files as _corpus_paths

REPO = Path(__file__).resolve().parents[1]


def parse_error(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_text(text, "m.yaml")
    return info.value


def one_line(err: InputError) -> str:
    message = str(err)
    assert "\n" not in message
    return message


# -- parse level: (text, expected words, line, column) -------------------------------------------------------
PARSE_CASES = {
    "malformed": ("a: [1, 2\nb: 3\n", "not valid YAML", 2, None),
    "tab-indent": ("a:\n\tb: 1\n", "tab in indentation", 2, 1),
    "tab-after-spaces": ("a:\n  b: 1\n  \tc: 2\n", "tab in indentation", 3, 3),
    "helm-value": ("kind: Pod\nreplicas: {{ .Values.replicas }}\n", TEMPLATE_ADVICE, 2, 11),
    "helm-control": ("{{- if .Values.enabled }}\nkind: Pod\n{{- end }}\n", TEMPLATE_ADVICE, 1, 1),
    "helm-name": ("metadata:\n  name: {{ .Release.Name }}-web\n", TEMPLATE_ADVICE, 2, 9),
    "helm-include": ("spec:\n  {{- include \"labels\" . | nindent 2 }}\n", TEMPLATE_ADVICE, 2, 3),
    "python-tag": ("a: !!python/object/apply:os.system ['true']\n", "tag !!python/object/apply:os.system", 1, 4),
    "local-tag": ("a: !Ref b\n", "tag !Ref is not allowed", 1, 4),
    "duplicate-anchor": ("a: &x 1\nb: &x 2\nc: *x\n", "an anchor is defined twice in one document (first at line 1)",
                         2, 4),
    "control-char": ("caf\u00e9: b\nc: \u00e9\x07\n", "character U+0007 is not allowed", 2, 5),
    "control-crlf": ("a: b\r\nc: d\r\ne: \x1b\r\n", "character U+001B is not allowed", 3, 4),
}


@pytest.mark.parametrize("name", PARSE_CASES)
def test_parse_errors_are_located(name: str) -> None:
    text, words, line, column = PARSE_CASES[name]
    err = parse_error(text)
    assert words in one_line(err)
    assert (err.file, err.doc, err.line) == ("m.yaml", 0, line)
    if column is not None:
        assert err.column == column


def test_error_names_the_document_in_a_stream() -> None:
    [err] = problems(DEPLOYMENT + "---\n" + DEPLOYMENT + "  labels: {}\n  labels: {}\n")
    assert err.doc == 1 and "duplicate key 'labels'" in err.message
    assert str(err) == "m.yaml:23:3 document 2: Deployment/web: duplicate key 'labels' (first at line 22)"


def test_merge_keys_and_aliases_are_not_duplicates() -> None:
    text = "base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  <<: {z: 3}\n  x: 5\nlist: [*b, *b]\n"
    data = parse_text(text).docs[0].data
    assert data["use"] == {"x": 5, "y": 2, "z": 3} and data["list"] == [{"x": 1, "y": 2}] * 2


def test_quoted_template_strings_are_plain_values() -> None:
    """Argo Workflows and others use {{...}} inside string values: that is data, not an unrendered chart."""
    source = parse_text(DEPLOYMENT.replace("image: nginx", 'image: "{{inputs.parameters.image}}"'))
    assert validate_source(source) == []


def test_unsafe_tags_are_never_constructed(tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "pwned")
    attacks = [
        f"a: !!python/object/apply:os.system ['touch {marker}']\n",
        f"a: !!python/object/apply:subprocess.call [['touch', '{marker}']]\n",
        f"a: !!python/object/new:subprocess.Popen [['touch', '{marker}']]\n",
        f"a: !!python/name:os.system\n",
        f"- !!python/object/apply:builtins.open ['{marker}', 'w']\n",
    ]
    for text in attacks:
        err = parse_error(text)
        assert "is not allowed" in err.message
    assert not os.path.exists(marker)


# -- bytes ------------------------------------------------------------------------------------------------------
def test_not_utf8_names_line_and_column(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "latin1.yaml")
    with open(path, "wb") as f:
        f.write(b"kind: Pod\nmetadata:\n  name: caf\xe9\n")
    with pytest.raises(InputError) as info:
        read_text_file(path)
    err = info.value
    assert (err.file, err.line, err.column) == (path, 3, 12) and "not UTF-8" in err.message


def test_lone_surrogate_is_an_input_error() -> None:
    """A caller that decoded with errors="surrogateescape" hands over text libyaml cannot encode."""
    err = parse_error("kind: Pod\nname: x\udce9\n")
    assert (err.line, err.column) == (2, 8) and "not UTF-8" in err.message


def test_utf16_is_named(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "utf16.yaml")
    with open(path, "wb") as f:
        f.write("kind: Pod\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        read_text_file(path)


# -- object shapes --------------------------------------------------------------------------------------------
def problems(text: str) -> list[InputError]:
    errors = validate_source(parse_text(text, "m.yaml"))
    for err in errors:
        one_line(err)
        assert err.file == "m.yaml" and err.line is not None and err.column is not None
    return errors


SHAPE_CASES = {
    "scalar-doc": ("just a string\n", "document is a string", 1),
    "sequence-doc": ("- a\n- b\n", "document is a list", 1),
    "template-doc": ("'{{ .Values.manifest }}'\n", TEMPLATE_ADVICE, 1),
    "no-kind": ("apiVersion: v1\nmetadata: {name: x}\n", "kind is missing", 1),
    "no-apiversion": ("kind: Pod\nmetadata: {name: x}\n", "apiVersion is missing", 1),
    "kind-not-string": ("apiVersion: v1\nkind: [Pod]\n", "kind must be a string, not a list", 2),
    "metadata-scalar": ("apiVersion: v1\nkind: Pod\nmetadata: web\n", "metadata must be a mapping, not a string", 3),
    "containers-mapping": (DEPLOYMENT.replace("      - name: app\n        image: nginx\n",
                                              "        app: {image: nginx}\n"),
                           "spec.template.spec.containers must be a list, not a mapping", 9),
    "container-scalar": (DEPLOYMENT.replace("      - name: app\n        image: nginx\n", "      - nginx\n"),
                         "spec.template.spec.containers[0] must be a mapping, not a string", 9),
    "container-null": (DEPLOYMENT.replace("      - name: app\n        image: nginx\n", "      - ~\n"),
                       "containers[0] must be a mapping, not null", 9),
    "securitycontext-string": (DEPLOYMENT + "        securityContext: \"x\"\n",
                               "containers[0].securityContext must be a mapping, not a string", 11),
    "securitycontext-template": (DEPLOYMENT + "        securityContext: \"{{ toYaml .Values.sc }}\"\n",
                                 "containers[0].securityContext: " + TEMPLATE_ADVICE, 11),
    "runasnonroot-string": (DEPLOYMENT + "        securityContext: {runAsNonRoot: \"false\"}\n",
                            "runAsNonRoot must be true or false, not a string", 11),
    "runasuser-bool": (DEPLOYMENT + "        securityContext: {runAsUser: yes}\n",
                       "runAsUser must be an integer, not a boolean", 11),
    "capabilities-drop": (DEPLOYMENT + "        securityContext: {capabilities: {drop: ALL}}\n",
                          "capabilities.drop must be a list, not a string", 11),
    "volumemounts-mapping": (DEPLOYMENT + "        volumeMounts: {name: tmp}\n",
                             "containers[0].volumeMounts must be a list", 11),
    "env-mapping": (DEPLOYMENT + "        env: {A: b}\n", "containers[0].env must be a list", 11),
    "volumes-mapping": (DEPLOYMENT + "      volumes: {tmp: {}}\n", "spec.template.spec.volumes must be a list", 11),
    "template-scalar": (DEPLOYMENT.split("  template:")[0] + "  template: nginx\n",
                        "spec.template must be a mapping, not a string", 6),
    "podspec-list": (DEPLOYMENT.split("    spec:")[0] + "    spec: []\n",
                     "spec.template.spec must be a mapping, not a list", 7),
    "cronjob": ("apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n"
                "      template:\n        spec:\n          hostNetwork: \"true\"\n",
                "spec.jobTemplate.spec.template.spec.hostNetwork must be true or false", 9),
    "list-item-no-kind": ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  metadata: {name: a}\n",
                          "items[0] has no kind", 4),
    "list-item-scalar": ("apiVersion: v1\nkind: List\nitems:\n- x\n", "items[0] is a string", 4),
    "list-items-mapping": ("apiVersion: v1\nkind: List\nitems: {a: 1}\n", "items must be a list", 3),
    "duplicate": ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  name: b\n",
                  "Pod/b: duplicate key 'name' (first at line 4)", 5),
    "duplicate-deep": (DEPLOYMENT + "        image: nginx:2\n", "duplicate key 'image' (first at line 10)", 11),
    "duplicate-int": ("apiVersion: v1\nkind: ConfigMap\ndata:\n  0x1F: a\n  31: b\n", "duplicate key '31'", 5),
    "duplicate-bool": ("apiVersion: v1\nkind: X\nx:\n  on: a\n  1: b\n", "duplicate key '1' (first at line 4)", 5),
    "duplicate-list-item": ("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, kind: Pod}\n",
                            "duplicate key 'kind'", 4),
    "templated-name": (DEPLOYMENT.replace("name: web", 'name: "{{ .Release.Name }}-web"'),
                       "metadata.name: " + TEMPLATE_ADVICE, 4),
    "templated-kind": ("apiVersion: v1\nkind: '{{ .Values.kind }}'\n", "kind: " + TEMPLATE_ADVICE, 2),
    "labels-list": ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels: [a]\n",
                    "metadata.labels must be a mapping", 5),
}


@pytest.mark.parametrize("name", SHAPE_CASES)
def test_shape_problems_are_located(name: str) -> None:
    text, words, line = SHAPE_CASES[name]
    errors = problems(text)
    assert len(errors) == 1, [str(e) for e in errors]
    assert words in errors[0].message and errors[0].line == line


@pytest.mark.parametrize(
    "fragment",
    ["        securityContext: null\n", "        securityContext:\n", "        securityContext: {}\n",
     "        securityContext: {capabilities: ~, runAsUser: 0, privileged: no}\n", "      volumes:\n",
     "      securityContext: ~\n      initContainers: ~\n", "        resources: {limits: {cpu: 1}}\n"],
)
def test_null_and_well_typed_fields_are_fine(fragment: str) -> None:
    assert problems(DEPLOYMENT + fragment) == []


def test_empty_documents_and_unknown_kinds_pass() -> None:
    text = "---\n# only a comment\n---\napiVersion: x.io/v1\nkind: Thing\nspec: {containers: 5}\n---\n"
    assert problems(text) == []


def test_check_keeps_the_well_formed_objects() -> None:
    broken = DEPLOYMENT.replace("name: web", "name: broken") + "        securityContext: x\n"
    duplicated = DEPLOYMENT.replace("name: web", "name: twice") + "  replicas: 1\n  replicas: 2\n"
    text = "\n---\n".join([DEPLOYMENT, broken, "- not an object\n", duplicated, DEPLOYMENT.replace("web", "api")])
    good, errors = split_objects(parse_text(text, "m.yaml"))
    assert [o.ref.name for o in good] == ["web", "api"]
    assert [(e.doc, e.line) for e in errors] == [(1, 23), (2, 26), (3, 40)]
    assert "Deployment/broken:" in errors[0].message


def test_list_items_are_judged_one_by_one() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: ok}\n"
            "- apiVersion: v1\n  kind: Pod\n  metadata: {name: bad}\n  spec: {containers: {}}\n")
    good, errors = split_objects(parse_text(text))
    assert [o.ref.name for o in good] == ["ok"] and len(errors) == 1 and errors[0].line == 10


def corpus_files() -> list[str]:
    return [str(p) for p in _corpus_paths()]


# Two corpus files are not something kharden should edit: one repeats a key (the API server refuses it, and
# PyYAML would silently keep the second copy), one is a list of operations, not a manifest.
KNOWN_BROKEN = {
    "statefulset-ondelete.yaml": "duplicate key 'updateStrategy' (first at line 30)",
    "job.yaml": "document is a list",
}


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not present (set KHARDEN_CORPUS)")
def test_corpus_passes_every_check_and_limit() -> None:
    seen = {}
    for path in corpus_files():
        try:
            errors = validate_source(parse_text(read_text_file(path), path))
        except InputError as e:
            errors = [e]
        if errors:
            seen[os.path.basename(path)] = errors[0].message
    assert set(seen) == set(KNOWN_BROKEN)
    for name, words in KNOWN_BROKEN.items():
        assert words in seen[name]


# -- through the command line: exit 2, one line on stderr, no file touched ---------------------------------------
BROKEN_FILES = {
    "dup.yaml": (DEPLOYMENT + "  replicas: 1\n  replicas: 2\n").encode(),
    "helm.yaml": DEPLOYMENT.replace("image: nginx", "image: {{ .Values.image }}").encode(),
    "tab.yaml": DEPLOYMENT.replace("        image", "\t\timage").encode(),
    "python.yaml": b"a: !!python/object/apply:os.system ['touch pwned']\n",
    "latin1.yaml": DEPLOYMENT.replace("web", "caf\xe9").encode("latin-1"),
    "shape.yaml": (DEPLOYMENT + "        securityContext: x\n").encode(),
    "deep.yaml": b"[" * 100_000 + b"]" * 100_000,
    "bomb.yaml": ("a: &a [" + ",".join(["x"] * 1000) + "]\nb: [" + ",".join(["*a"] * 2000) + "]\n").encode(),
}


@pytest.mark.parametrize("name", [n for n in BROKEN_FILES if n != "helm.yaml"])
def test_cli_reports_broken_input_touches_it_not_and_fixes_the_others(tmp_path: Path, name: str) -> None:
    """A broken file is reported with file and line and left as it is; every other file is still hardened (issue
    21: one file used to stop the whole run), and the exit code is 2."""
    profile = tmp_path / "profile.yaml"
    profile.write_text("description: any profile; the input is refused before it matters\n")
    good, bad = tmp_path / "a-good.yaml", tmp_path / name
    good.write_text(DEPLOYMENT)
    bad.write_bytes(BROKEN_FILES[name])
    run = subprocess.run([sys.executable, "-m", "kharden", "fix", "--in-place", "-q", "--profile", str(profile),
                          str(good), str(bad)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.splitlines()
    assert "Traceback" not in run.stderr
    assert [ln for ln in lines if ln.startswith("kharden: error:")] == [lines[0]], run.stderr
    assert lines[0].startswith(f"kharden: error: {bad}:"), run.stderr
    assert bad.read_bytes() == BROKEN_FILES[name]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["profile.yaml", "a-good.yaml", name])


def test_cli_skips_an_unrendered_template_with_a_note(tmp_path: Path) -> None:
    good, template = tmp_path / "a-good.yaml", tmp_path / "helm.yaml"
    good.write_text(DEPLOYMENT)
    template.write_bytes(BROKEN_FILES["helm.yaml"])
    run = subprocess.run([sys.executable, "-m", "kharden", "fix", "--in-place", "-q", str(good), str(template)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "1 file(s) skipped: 1 an unrendered template" in run.stderr
    assert template.read_bytes() == BROKEN_FILES["helm.yaml"] and good.read_text() != DEPLOYMENT


def test_reading_never_reaches_the_network_or_starts_a_process() -> None:
    """Audit hooks see every socket, subprocess and exec the interpreter performs while kharden reads the corpus
    and the hostile cases (and fixes them, once the pipeline is complete)."""
    seen: list[str] = []
    watching = [False]
    risky = ("socket.", "subprocess.", "os.system", "os.exec", "os.posix_spawn", "os.fork", "os.spawn",
             "ctypes.", "urllib.", "http.", "ftplib.", "smtplib.", "webbrowser.", "pickle.")

    def hook(event: str, args: tuple) -> None:
        if watching[0] and event.startswith(risky):
            seen.append(event)

    sys.addaudithook(hook)  # cannot be removed: it only records while `watching`
    sample = [p for p in corpus_files() if os.path.getsize(p) < 100_000][::3]  # code paths, not volume
    texts = [(p, read_text_file(p)) for p in sample] + [
        (n, b.decode("utf-8", "replace")) for n, b in BROKEN_FILES.items()]
    fix = _fixer()
    watching[0] = True
    try:
        for path, text in texts:
            try:
                source = parse_text(text, path)
                validate_source(source)
                fix(source)
            except KhardenError:
                pass
    finally:
        watching[0] = False
    assert seen == []


def _fixer() -> Callable[[object], object]:
    """kharden's fix of one parsed source once the pipeline is complete; until then, nothing more to run."""
    try:
        import kharden.mutators.optouts  # noqa: F401
        from kharden.profile import load_profile
        from kharden.run import fix_sources

        profile = load_profile("restricted")
    except Exception:  # the pipeline or profiles are not on this branch yet
        return lambda source: None
    return lambda source: fix_sources([source], profile, generate=False)


# -- the integrations read the same input: they must refuse it the same way -------------------------------------
ILL_TYPED = [
    "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: x}\nspec:\n  rules:\n  - http:\n"
    "      paths:\n      - path: /\n        backend:\n          service: {name: web, port: x}\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nmetadata: {name: q}\nspec:\n  containers:\n"
    "  - {name: a, image: nginx}\n",
]


def test_helm_post_renderer_refuses_ill_typed_input() -> None:
    from kharden.integrations.helm import post_render
    from kharden.profile import load_profile

    stream = "---\n".join(ILL_TYPED)
    with pytest.raises(InputError):
        post_render(stream, load_profile("restricted"))


def test_krm_function_refuses_ill_typed_input() -> None:
    from kharden.integrations.krm import process

    items = "".join("- " + textwrap.indent(obj, "  ")[2:] for obj in ILL_TYPED)
    resource_list = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n" + items
    try:
        _, failed = process(resource_list)
    except InputError:
        return
    assert failed, "the KRM function accepted an object with a repeated key"
