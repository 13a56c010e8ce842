"""Each discovered file read and judged on its own: a manifest to harden, a file to skip (and why), or a broken
file (the located error). One broken file never stops the others: the edge reports it and exits 2 at the end.

Skipped, counted, listed with `-v`: files in which no document is a Kubernetes object (kustomization files, patch
lists, values.yaml, CI workflows, compose files: anything without `apiVersion` and `kind`) and unrendered templates
(`{{ }}` that stops the YAML or lands in an object's identity). Only stdin is an error when it holds no manifest:
there is no other file to go on with, and the user asked for that one stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from kharden.errors import InputError, KhardenError
from kharden.model import Path
from kharden.read import Source, parse_text
from kharden.read.source import read_text_file
from kharden.read.validate import validate_source
from kharden.read.yamlerrors import TEMPLATE_ADVICE
from kharden.files.discover import Found

NOT_MANIFEST = "not a Kubernetes manifest (no document has apiVersion and kind)"
TEMPLATE = "an unrendered template (render it first, e.g. `helm template`)"
CHART_ADVICE = ("a Helm chart: its templates are not manifests until Helm renders them; harden the rendered output "
                "with `helm install --post-renderer kharden --post-renderer-args helm-post-render` "
                "(docs/integrations.md)")


@dataclass(frozen=True)
class Skipped:
    path: str
    why: str


@dataclass
class Screened:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[KhardenError] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    found: Found = field(default_factory=Found)


def screen(found: Found, pod_templates: dict[tuple[str, str], Path] | None = None, *,
           validate: bool = True, paths: Iterable[str] | None = None) -> Screened:
    """Read every found file; keep manifests, skip what is none, collect the errors. `validate=False` (check):
    objects are judged one by one later, a broken one does not drop its file. `paths`: found.paths as the edge
    iterates them (a progress bar)."""
    out = Screened(charts=list(found.charts), found=found)
    for path in found.paths if paths is None else paths:
        verdict = judge(path, pod_templates, validate=validate)
        if isinstance(verdict, Source):
            out.sources.append(verdict)
        elif isinstance(verdict, Skipped):
            out.skipped.append(verdict)
        else:
            out.errors.append(verdict)
    return out


def judge(path: str, pod_templates: dict[tuple[str, str], Path] | None = None, *,
          validate: bool = True) -> Source | Skipped | KhardenError:
    try:
        text = read_text_file(path)
    except KhardenError as e:
        return e
    try:
        source = parse_text(text, path)
    except InputError as e:
        return Skipped(path, TEMPLATE) if "{{" in text and path != "-" else e
    if not is_manifest(source):
        if path == "-":
            return InputError(f"{NOT_MANIFEST}: nothing to harden", file=path)
        return Skipped(path, NOT_MANIFEST)
    if not validate and "{{" not in text:
        return source
    problems = validate_source(source, pod_templates=pod_templates)
    if problems and path != "-" and any(TEMPLATE_ADVICE in p.message for p in problems):
        return Skipped(path, TEMPLATE)
    return problems[0] if problems and validate else source


def is_manifest(source: Source) -> bool:
    """Does any document look like a Kubernetes object (a mapping with apiVersion and kind)?"""
    return any(_object_like(d.data) for d in source.docs)


def _object_like(data: Any) -> bool:
    return isinstance(data, dict) and "apiVersion" in data and "kind" in data


def summary(s: Screened, verbose: bool) -> str:
    """Lines for stderr: each chart, each broken file (always); the skipped files counted (listed with -v)."""
    lines = [f"kharden: {c}: {CHART_ADVICE}" for c in s.charts]
    if s.skipped:
        counts: dict[str, int] = {}
        for k in s.skipped:
            counts[k.why] = counts.get(k.why, 0) + 1
        lines.append(f"kharden: {len(s.skipped)} file(s) skipped: "
                     + "; ".join(f"{n} {why}" for why, n in counts.items())
                     + ("" if verbose else " (-v lists them)"))
        if verbose:
            lines += [f"  {k.path}: {k.why}" for k in s.skipped]
    return "".join(line + "\n" for line in lines)
