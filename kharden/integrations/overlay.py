"""kustomize overlay output: `kharden fix --format kustomize --output-dir DIR PATHS`.

For teams that must not edit vendored manifests: instead of rewriting them, kharden writes DIR/kustomization.yaml
that refers to the original files (relative paths) plus, per changed object, an RFC 6902 patch with a target
selector (DIR/patches/, each operation commented with its reason), and the generated objects
(DIR/kharden-generated.yaml). `kubectl kustomize DIR` then yields the objects `kharden fix` would have written.

kustomize refuses to load files outside the kustomization's directory unless told otherwise; the originals usually
are outside DIR, so build with `kubectl kustomize --load-restrictor LoadRestrictionsNone DIR` (the kustomization
says so in a comment when it is needed). Copying the originals into DIR would avoid that, but then an update of the
vendored files would silently not reach the build.
"""

from __future__ import annotations

import os
import re
from typing import Any

import yaml

from kharden.errors import UsageError
from kharden.model import GENERATED_FILE as GENERATED, Change, ObjectRef
from kharden.render import patch

KUSTOMIZATION = "kustomization.yaml"
PATCH_DIR = "patches"


def write(outcome: Any, output_dir: str) -> list[str]:
    """Write the overlay; returns the files written (kustomization first)."""
    from kharden.tree.write import write_atomic

    sources = outcome.result.sources
    if any(s.path == "-" for s in sources):
        raise UsageError("--format kustomize refers to the input files: it cannot take stdin")
    os.makedirs(os.path.join(output_dir, PATCH_DIR), exist_ok=True)
    resources = [_rel(s.path, output_dir) for s in sources]
    written, entries = [], []
    for name, entry, text in _patch_files(outcome.result.changes):
        path = os.path.join(output_dir, PATCH_DIR, name)
        write_atomic(path, text)
        written.append(path)
        entries.append(entry)
    if outcome.result.generated:
        path = os.path.join(output_dir, GENERATED)
        write_atomic(path, outcome.generated_stream(separator=False))
        written.append(path)
        resources.append(GENERATED)
    outside = any(r.startswith("../") or os.path.isabs(r) for r in resources)
    kustomization = os.path.join(output_dir, KUSTOMIZATION)
    write_atomic(kustomization, _kustomization(resources, entries, outside))
    return [kustomization, *written]


def _kustomization(resources: list[str], patches: list[dict[str, Any]], outside: bool) -> str:
    head = "# Written by `kharden fix --format kustomize`: the original manifests, hardened by patches.\n"
    if outside:
        head += "# The resources live outside this directory: build with\n"
        head += "#   kubectl kustomize --load-restrictor LoadRestrictionsNone <this directory>\n"
    body: dict[str, Any] = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
                            "resources": resources}
    if patches:
        body["patches"] = patches
    return head + yaml.safe_dump(body, sort_keys=False, width=1 << 16)


def _patch_files(changes: list[Change]) -> list[tuple[str, dict[str, Any], str]]:
    by_obj: dict[ObjectRef, list[Change]] = {}
    for c in changes:
        by_obj.setdefault(c.obj, []).append(c)
    out: list[tuple[str, dict[str, Any], str]] = []
    used: set[str] = set()
    for ref, cs in by_obj.items():
        name = _unique(_slug(ref), used)
        out.append((name, {"path": f"{PATCH_DIR}/{name}", "target": target(ref)}, _patch_text(ref, cs)))
    return out


def target(ref: ObjectRef) -> dict[str, str]:
    """kustomize's target selector for one object."""
    group, _, version = ref.api_version.rpartition("/")
    sel = {"group": group, "version": version, "kind": ref.kind, "name": ref.name}
    if ref.namespace:
        sel["namespace"] = ref.namespace
    return {k: v for k, v in sel.items() if v}  # the core group is "": left out, it selects nothing more


def _patch_text(ref: ObjectRef, changes: list[Change]) -> str:
    """A JSON 6902 patch in YAML, each operation under a comment that says why."""
    lines = [f"# {ref.label()} from {ref.file}\n"]
    for c, op in zip(changes, patch.patches(changes)[0]["patch"]):
        lines.append(f"# {c.mutator}: {c.reason}".replace("\n", " ") + "\n")
        lines.append(yaml.safe_dump([op], sort_keys=False, width=1 << 16))
    return "".join(lines)


def _slug(ref: ObjectRef) -> str:
    parts = [ref.kind, ref.namespace or "", ref.name]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(p for p in parts if p)).strip("-").lower() or "object"


def _unique(base: str, used: set[str]) -> str:
    name, n = f"{base}.yaml", 2
    while name in used:
        name, n = f"{base}-{n}.yaml", n + 1
    used.add(name)
    return name


def _rel(path: str, output_dir: str) -> str:
    return os.path.relpath(os.path.abspath(path), os.path.abspath(output_dir)).replace(os.sep, "/")
