"""`kharden fix --move-secrets`: literal credentials out of the manifests, into a Secret whose values kharden never
writes.

    env:                                   env:
    - name: API_TOKEN                      - name: API_TOKEN
      value: ghp_...               ->        valueFrom:
                                               secretKeyRef: {name: web-kharden-secrets, key: API_TOKEN}

An env literal becomes a `secretKeyRef` to `<workload>-kharden-secrets`. A ConfigMap key moves to
`<configmap>-kharden-secrets` only when every consumer of it in the input can follow: `configMapKeyRef` becomes
`secretKeyRef`, `envFrom.configMapRef` gains an `envFrom.secretRef`; a ConfigMap mounted as a volume, or one no
input object consumes (a consumer elsewhere would lose the key), stays and is reported. Literals in args, commands
and annotations are reported, not moved. For each Secret kharden writes a manifest with its key names and no
values (`kharden.dev/keys`), and a warning: the values must be supplied out of band (`kubectl create secret
generic ... --from-literal=KEY=...`) before the workload starts; until then its pods wait with
CreateContainerConfigError rather than run without their credential. The record of change masks every value.
"""

from __future__ import annotations

from typing import Any, Callable

from kharden.find.podspecs import PodTarget, find_pod_targets
from kharden.generators.base import MANAGED_BY, Generated
from kharden.model import Finding, Path
from kharden.mutators.base import Editor
from kharden.read import KObject
from kharden.secrets.locate import Hit, mask, plaintext_in

ID = "moveSecrets"
SUFFIX = "-kharden-secrets"
KEYS = "kharden.dev/keys"
MOVED = "kharden.dev/why"

SecretKey = tuple[str | None, str]  # (namespace, name)


def move(objects: list[KObject], editor_for: Callable[[KObject], Editor],
         templates: dict[tuple[str, str], Path] | None) -> tuple[Generated, dict[SecretKey, list[str]]]:
    """Move what can be moved; return the Secrets' manifests, findings, and {secret: keys} moved into each."""
    out = Generated()
    wanted: dict[SecretKey, list[str]] = {}
    held: dict[tuple[SecretKey, str], str] = {}  # (secret, key) -> the value moved there
    hits = plaintext_in(objects, templates)
    for h in hits:
        if _is_env(h):
            _move_env(h, editor_for(h.obj), wanted, held)
    for h in hits:
        if h.obj.ref.kind == "ConfigMap" and h.path[:1] == ("data",):
            _move_configmap_key(h, objects, editor_for, templates, wanted, out.findings)
    existing = {(o.ref.namespace, o.ref.name) for o in objects if o.ref.kind == "Secret"}
    moved = tuple(h.value for h in hits)  # for `fix --diff` to mask on its removed lines (kharden.secrets.redact)
    for key, names in wanted.items():
        if key not in existing:
            out.objects.append(values_free_secret(key, names))
        out.findings.append(_supply_warning(key, names, moved))
    return out, wanted


def _is_env(h: Hit) -> bool:
    return len(h.path) >= 3 and h.path[-3] == "env" and h.path[-1] == "value"


def secret_key(name: str) -> str:
    """A Secret data key (`[-._a-zA-Z0-9]+`) for an env name or ConfigMap key."""
    return "".join(ch if ch.isalnum() or ch in "-._" else "_" for ch in name) or "value"


def _record_masked(edit: Editor, path: Path, reason: str) -> None:
    """Remove a literal; its Change records the value masked, so no rendering of the record can show it."""
    edit.remove(path, reason)
    edit.changes[-1] = edit.changes[-1]._replace(old=mask(str(edit.changes[-1].old)))


def _move_env(h: Hit, edit: Editor, wanted: dict[SecretKey, list[str]],
              held: dict[tuple[SecretKey, str], str]) -> None:
    ns, name = h.obj.ref.namespace, h.obj.ref.name + SUFFIX
    key = secret_key(h.key or "value")
    if held.setdefault(((ns, name), key), h.value) != h.value:  # two containers, one name, two values
        key = secret_key(f"{h.container}.{h.key}")
        held[((ns, name), key)] = h.value
    entry = h.path[:-1]
    reason = f"{h.kind} moved out of the manifest into Secret {name} (supply its value out of band)"
    _record_masked(edit, h.path, reason)
    edit.ensure(entry + ("valueFrom",), {"secretKeyRef": {"name": name, "key": key}}, reason)
    _want(wanted, (ns, name), key)


def _want(wanted: dict[SecretKey, list[str]], secret: SecretKey, key: str) -> None:
    keys = wanted.setdefault(secret, [])
    if key not in keys:
        keys.append(key)


def _move_configmap_key(h: Hit, objects: list[KObject], editor_for: Callable[[KObject], Editor],
                        templates: dict[tuple[str, str], Path] | None, wanted: dict[SecretKey, list[str]],
                        findings: list[Finding]) -> None:
    cm, ns, key = h.obj.ref.name, h.obj.ref.namespace, str(h.path[1])
    uses = [u for o in objects if o.ref.namespace == ns for t in find_pod_targets(o, templates)
            for u in _uses(t, cm, key)]
    blocked = [u for u in uses if u[0] == "volume"]
    if not uses or blocked:
        why = (f"mounted as a volume by {blocked[0][1].obj.ref.label()}" if blocked
               else "no object in the input consumes it, and a consumer elsewhere would lose the key")
        findings.append(Finding(obj=h.obj.ref, rule="secret.not-moved", severity="warning", path=h.path,
                                line=h.obj.line(h.path), message=f"{h.kind} in {h.where} not moved: {why}"))
        return
    secret = cm + SUFFIX
    reason = f"{h.kind} moved out of ConfigMap {cm} into Secret {secret} (supply its value out of band)"
    _record_masked(editor_for(h.obj), h.path, reason)
    for what, target, path in uses:
        edit = editor_for(target.obj)
        if what == "keyref":
            _record_masked_ref(edit, path, {"name": secret, "key": secret_key(key)}, reason)
        elif not _has_secret_ref(edit.get(path[:-1]), secret):
            prefix = (edit.get(path) or {}).get("prefix")
            edit.append(path[:-1], {"secretRef": {"name": secret}, **({"prefix": prefix} if prefix else {})},
                        reason)
    _want(wanted, (ns, secret), secret_key(key))



def _record_masked_ref(edit: Editor, path: Path, ref: dict[str, Any], reason: str) -> None:
    """`valueFrom.configMapKeyRef` -> `valueFrom.secretKeyRef` (keeping `optional`)."""
    old = edit.get(path + ("configMapKeyRef",))
    optional = old.get("optional") if isinstance(old, dict) else None
    edit.remove(path + ("configMapKeyRef",), reason)
    edit.ensure(path + ("secretKeyRef",), {**ref, **({"optional": optional} if optional is not None else {})},
                reason)


def _has_secret_ref(env_from: Any, secret: str) -> bool:
    return isinstance(env_from, list) and any(
        isinstance(e, dict) and isinstance(e.get("secretRef"), dict) and e["secretRef"].get("name") == secret
        for e in env_from)


def _uses(target: PodTarget, cm: str, key: str) -> list[tuple[str, PodTarget, Path]]:
    """How a pod consumes ConfigMap `cm`'s `key`: ("keyref", path of valueFrom), ("envfrom", path of the entry),
    ("volume", path of the volume)."""
    found = []
    for cpath, c in target.containers():
        for j, e in enumerate(_list(c.get("env"))):
            ref = (e.get("valueFrom") or {}).get("configMapKeyRef") if isinstance(e, dict) else None
            if isinstance(ref, dict) and ref.get("name") == cm and ref.get("key") == key:
                found.append(("keyref", target, cpath + ("env", j, "valueFrom")))
        for j, e in enumerate(_list(c.get("envFrom"))):
            if isinstance(e, dict) and isinstance(e.get("configMapRef"), dict) and e["configMapRef"].get("name") == cm:
                found.append(("envfrom", target, cpath + ("envFrom", j)))
    for j, v in enumerate(_list(target.spec.get("volumes"))):
        if isinstance(v, dict) and _volume_uses(v, cm):
            found.append(("volume", target, target.spec_path + ("volumes", j)))
    return found


def _list(value: Any) -> list[Any]:
    """The list, or nothing: a malformed field (a string where a list belongs) is no use to find."""
    return value if isinstance(value, list) else []


def _volume_uses(volume: dict[str, Any], cm: str) -> bool:
    if isinstance(volume.get("configMap"), dict) and volume["configMap"].get("name") == cm:
        return True
    sources = (volume.get("projected") or {}).get("sources") if isinstance(volume.get("projected"), dict) else None
    return isinstance(sources, list) and any(
        isinstance(s, dict) and isinstance(s.get("configMap"), dict) and s["configMap"].get("name") == cm
        for s in sources)


def values_free_secret(secret: SecretKey, keys: list[str]) -> dict[str, Any]:
    """The Secret's manifest: its name and the keys it must hold, no values (applying it over a Secret created out
    of band keeps that Secret's data: the manifest names no data)."""
    ns, name = secret
    meta: dict[str, Any] = {"name": name, **({"namespace": ns} if ns else {}), "labels": dict(MANAGED_BY),
                            "annotations": {KEYS: ",".join(keys), MOVED: _supply_text(name, keys)}}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": meta, "type": "Opaque"}


def _supply_text(name: str, keys: list[str]) -> str:
    literals = " ".join(f"--from-literal={k}=..." for k in keys)
    return (f"kharden moved plaintext credentials here and wrote no values: supply them out of band, e.g. "
            f"kubectl create secret generic {name} {literals}")


def _supply_warning(secret: SecretKey, keys: list[str], moved: tuple[str, ...]) -> Finding:
    """The warning that goes with a values-free Secret. `extra["redact"]` holds the values found, for the diff
    renderer to mask; no renderer prints `extra` beyond a container's name."""
    ns, name = secret
    return Finding(obj=None, rule="secret.supply-out-of-band", severity="warning",
                   message=f"Secret {(ns + '/') if ns else ''}{name} needs key(s) {', '.join(keys)}: "
                           f"{_supply_text(name, keys)}", status="open", extra={"redact": moved})
