"""Credentials in plain text, and Secrets handed to containers as environment variables.

| rule id | severity | what |
|---|---|---|
| `secret.plaintext` | error | a credential written as a literal: env `value`, `command`/`args`, ConfigMap `data`, an annotation |
| `secret.env-var` | warning | a Secret consumed as an environment variable (`secretKeyRef`, `envFrom.secretRef`; checkov CKV_K8S_35) |

A finding names the place and the kind of credential (`password`, `github-token`, `private-key`, ...), never the
value: the message shows only its length. How a literal is recognised: `kharden/secrets/detect.py`.
`kharden fix --move-secrets` moves env literals and ConfigMap keys into a Secret; `--secrets-as-files` turns env
secrets into mounted files where the image reads `<VAR>_FILE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.find.podspecs import PodTarget
from kharden.model import Finding, Path
from kharden.options import CheckOptions
from kharden.read import KObject
from kharden.secrets.file_env import blocker
from kharden.secrets.locate import plaintext

ID = "secrets"

MOVE_HINT = "`kharden fix --move-secrets` moves it into a Secret"
FILES_HINT = "`kharden fix --secrets-as-files` mounts it as a file where the image reads <VAR>_FILE"


@dataclass(frozen=True)
class Options(CheckOptions):
    env_vars: bool = True


def check(pods: list[tuple[KObject, list[PodTarget]]], opts: Options) -> list[Finding]:
    """Object by object (`check -j` joins files' findings in order: they must be in object order)."""
    return [f for pod in pods for f in _check_one([pod], opts)]


def _check_one(pods: list[tuple[KObject, list[PodTarget]]], opts: Options) -> list[Finding]:
    findings = [Finding(obj=h.obj.ref, rule="secret.plaintext", severity="error",
                        message=f"{h.kind} in plain text in {h.where}: {h.masked}", path=h.path,
                        line=h.obj.line(h.path), reason=_hint(h.path),
                        extra={"container": h.container, "kind": h.kind, "redact": (h.value,)})
                for h in plaintext(pods)]
    if opts.env_vars:
        findings += env_vars(pods)
    return findings


def _hint(path: Path) -> str:
    movable = "env" in path or path[:1] == ("data",)
    return MOVE_HINT if movable else "not moved automatically: pass it through an env var from a Secret"


def env_vars(pods: list[tuple[KObject, list[PodTarget]]]) -> list[Finding]:
    """Secrets that reach a container as environment variables (they leak into crash dumps, `env` and child
    processes; a mounted file does not)."""
    out = []
    for obj, targets in pods:
        for target in targets:
            for cpath, c in target.containers():
                name = c.get("name", "?")
                for j, e in enumerate(c.get("env") if isinstance(c.get("env"), list) else []):
                    ref = _get(e, ("valueFrom", "secretKeyRef"))
                    if isinstance(ref, dict):
                        path = cpath + ("env", j, "valueFrom", "secretKeyRef")
                        out.append(_env_finding(obj, path, name, f"env {e.get('name')} from Secret "
                                                f"{ref.get('name')} key {ref.get('key')}", blocker(c, e, ref)))
                for j, e in enumerate(c.get("envFrom") if isinstance(c.get("envFrom"), list) else []):
                    ref = _get(e, ("secretRef",))
                    if isinstance(ref, dict):
                        path = cpath + ("envFrom", j, "secretRef")
                        out.append(_env_finding(obj, path, name, f"every key of Secret {ref.get('name')} (envFrom)",
                                                "envFrom: the variables' names are not known here"))
    return out


def _env_finding(obj: KObject, path: Path, container: str, what: str, blocked: str) -> Finding:
    """`blocked`: why `--secrets-as-files` cannot make it a file ("" when it can)."""
    return Finding(obj=obj.ref, rule="secret.env-var", severity="warning",
                   message=f"container {container} gets a Secret as an environment variable: {what} (CKV_K8S_35)",
                   path=path, line=obj.line(path), reason=f"not as a file: {blocked}" if blocked else FILES_HINT,
                   extra={"container": container})


def _get(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data
