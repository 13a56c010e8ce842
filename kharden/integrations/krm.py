"""KRM function: `kharden krm` reads a ResourceList on stdin and writes it back hardened, with `results`.

    stdin   apiVersion: config.kubernetes.io/v1, kind: ResourceList, items: [...], functionConfig: <Hardening>
    stdout  the same list: items hardened in place (every annotation, `config.kubernetes.io/*` and
            `internal.config.kubernetes.io/*` included, passes through), generated objects appended (written by
            kpt to `kharden-generated.yaml` beside the first input file), and one result per change and per
            violation kharden could not fix.

Result severities: a change is `info`; an unfixed violation is `warning`, or `error` when the config says
`enforce: true`; opt-outs and notes are `info`. The function exits 1 when it reports an error result (kpt then
fails the pipeline), 0 otherwise. A functionConfig it cannot use is an error result, too.
"""

from __future__ import annotations

import os
from typing import Any

from kharden.render import fastdump
from kharden.errors import InputError, KhardenError
from kharden.integrations.hardening import HardeningConfig, from_object
from kharden.generators import owned
from kharden.model import GENERATED_FILE, Change, Finding, ObjectRef, dotted
from kharden.pipeline import Request
from kharden.read import KObject, Source, parse_text
from kharden.run import execute, resolve_profile

PATH_KEYS = ("internal.config.kubernetes.io/path", "config.kubernetes.io/path")
INDEX_KEYS = ("internal.config.kubernetes.io/index", "config.kubernetes.io/index")
LOCAL_CONFIG = "config.kubernetes.io/local-config"


def process(text: str) -> tuple[str, bool]:
    """Run the function over a ResourceList text. Returns (output ResourceList text, whether it failed)."""
    source = parse_text(text, "<ResourceList>")
    rl = source.docs[0].data if len(source.docs) == 1 else None
    if not isinstance(rl, dict) or rl.get("kind") != "ResourceList" or not isinstance(rl.get("items", []), list):
        raise InputError("stdin must be one ResourceList (config.kubernetes.io/v1) with a list of items", file="-")
    rl.setdefault("items", [])
    try:
        config = from_object(rl.get("functionConfig"), where="functionConfig")
        results = _harden(source, rl, config)
    except KhardenError as e:
        results = [{"message": str(e), "severity": "error", "tags": {"rule": "kharden.config"}}]
    rl["results"] = (rl.get("results") or []) + results
    failed = any(r["severity"] == "error" for r in results)
    return fastdump.dump_resource(rl), failed


def deployed(obj: KObject) -> bool:
    """Not local-config, and not kpt's own (the Kptfile): objects that reach a cluster, so kharden hardens them."""
    return str(obj.annotation(LOCAL_CONFIG)).lower() != "true" and not obj.ref.api_version.split("/")[0].endswith(
        "kpt.dev")


def _harden(source: Source, rl: dict[str, Any], config: HardeningConfig) -> list[dict[str, Any]]:
    """Harden the deployed items in place (the list is written again, so no text is spliced); generated objects
    are appended, filed by kpt beside the first input file."""
    request = Request([source], resolve_profile(config.profile), generate=config.generate,
                      deployed=lambda o: deployed(o) and not _earlier_generated(o.data), splice=False)
    result = execute(request)
    items: list[Any] = rl["items"]
    out = [change_result(c, items) for c in result.changes]
    out += [finding_result(f, items, config.enforce) for f in result.findings]
    if result.generated:
        _file_generated(items, result.generated)
    return out


def _earlier_generated(obj: dict[str, Any]) -> bool:
    """An object kharden generated in an earlier `kpt fn eval/render`: filed in kharden-generated.yaml, labelled
    as kharden's (kharden.generators.owned). Neither hardened nor seen by generators: regenerated."""
    path = _file_of(obj)
    return owned.is_ours(obj) and path is not None and os.path.basename(path) == GENERATED_FILE


def _file_generated(items: list[Any], generated: list[dict[str, Any]]) -> None:
    """Merge this run's objects with an earlier run's (replaced by identity, the others kept), filed in
    kharden-generated.yaml beside the first input file, each with an index no other item of that file has."""
    earlier = [i for i in items if isinstance(i, dict) and _earlier_generated(i)]
    first_path = next((p for p in (_file_of(i) for i in items if not (isinstance(i, dict) and
                                                                      _earlier_generated(i))) if p), None)
    directory = os.path.dirname(first_path) if first_path else ""
    target = os.path.join(directory, GENERATED_FILE)
    if earlier:
        target = _file_of(earlier[0]) or target
    items[:] = [i for i in items if not (isinstance(i, dict) and _earlier_generated(i))]
    taken = {int(x) for i in items if _file_of(i) == target and (x := _annotation(i, INDEX_KEYS)) and x.isdigit()}
    free = (n for n in range(len(items) + len(generated) + len(earlier) + 1) if n not in taken)
    for obj in owned.merged(earlier, generated):
        _annotate(obj, target, next(free))
        items.append(obj)


def _annotate(obj: dict[str, Any], path: str, index: int) -> None:
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    for key in PATH_KEYS:
        annotations[key] = path
    for key in INDEX_KEYS:
        annotations[key] = str(index)


def change_result(c: Change, items: list[Any]) -> dict[str, Any]:
    r = _base(c.obj, items, f"{c.reason}", "info", f"kharden.{c.mutator}", "fixed")
    r["field"] = {"path": dotted(c.path), **({"currentValue": c.old} if c.old is not None else {}),
                  **({"proposedValue": c.new} if c.new is not None else {})}
    return r


def finding_result(f: Finding, items: list[Any], enforce: bool) -> dict[str, Any]:
    severity = ("error" if enforce else "warning") if f.status == "unfixed" else "info"
    message = f.message + (f" (not fixed: {f.reason})" if f.status == "unfixed" and f.reason else
                           f" ({f.reason})" if f.reason else "")
    r = _base(f.obj, items, message, severity, f.rule, f.status)
    if f.path:
        r["field"] = {"path": dotted(f.path)}
    return r


def _base(ref: ObjectRef | None, items: list[Any], message: str, severity: str, rule: str,
          status: str) -> dict[str, Any]:
    r: dict[str, Any] = {"message": message, "severity": severity, "tags": {"rule": rule, "status": status}}
    if ref is None:
        return r
    r["resourceRef"] = {"apiVersion": ref.api_version, "kind": ref.kind, "name": ref.name,
                        **({"namespace": ref.namespace} if ref.namespace else {})}
    item = items[ref.item] if ref.item is not None and ref.item < len(items) else None
    path = _file_of(item)
    if path:
        index = _annotation(item, INDEX_KEYS)
        r["file"] = {"path": path, **({"index": int(index)} if index and index.isdigit() else {})}
    return r


def _file_of(item: Any) -> str | None:
    return _annotation(item, PATH_KEYS)


def _annotation(item: Any, keys: tuple[str, ...]) -> str | None:
    meta = item.get("metadata") if isinstance(item, dict) else None
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return None
    return next((str(annotations[k]) for k in keys if annotations.get(k) is not None), None)
