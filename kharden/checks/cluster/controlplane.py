"""CIS items on control-plane static pods and KubeletConfiguration objects: what fails, and what `fix` would do.

`plan(item, flags, container, opts)` is the one decision both the check (a reason in the report) and the
`controlPlane` mutator (an edit) take: add an absent flag, append to a written list (authorization modes,
admission plugins), rewrite a written value (only with the profile's `enforce: true`), or nothing and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from kharden.checks.cluster import cis
from kharden.checks.cluster.flags import Flag, component_of, flags_of
from kharden.checks.cluster.guards import GUARDS
from kharden.find import find_pod_targets
from kharden.model import Finding, Path, Severity
from kharden.read import KObject

NEEDS = {
    "cluster-files": "needs a file on the node (a certificate, key or configuration) kharden cannot know or create",
    "decision": "a trade-off for the cluster's operator; kharden reports it",
    "obsolete": "the flag no longer exists in current Kubernetes; setting it would stop the component starting",
    "checkov-only": "checkov's own rule (no CIS item, no security effect); renaming the file needs the node",
}
OPT_VALUES = {"--audit-log-path": "auditLogPath", "--audit-policy-file": "auditPolicyFile"}
KUBELET_CONFIG = ("kubelet.config.k8s.io", "KubeletConfiguration")
_SEVERITY: dict[str | None, Severity] = {"obsolete": "info", "checkov-only": "info", "decision": "warning"}


@dataclass(frozen=True)
class Plan:
    op: str | None  # "add" | "replace" | "remove" | None (not fixed)
    new: str | None  # the new list element, "--flag=value"
    why: str  # why not fixed, or what the fix does


def plan(item: cis.Item, flags: dict[str, Flag], container: dict[str, Any], opts: dict[str, Any]) -> Plan:
    assert item.flag is not None
    written = flags.get(item.flag)
    if item.fix == "none":
        return Plan(None, None, NEEDS[item.needs or "decision"])
    if item.fix.startswith("guard:"):
        ok, why = GUARDS[item.fix[len("guard:"):]](flags, container, opts)
        if not ok:
            return Plan(None, None, why)
    value = _desired(item, written, opts)
    if value is None:
        return Plan(None, None, "fixed through the other items on the same flag")
    if written is None:
        return Plan("add", f"{item.flag}={value}", f"kharden fix adds {item.flag}={value}")
    if item.check == "includes":  # appending to a written list loosens nothing
        return Plan("replace", f"{item.flag}={value}", f"kharden fix adds {item.value} to {item.flag}")
    if not opts.get("enforce"):
        return Plan(None, None, "written explicitly; a profile with `enforce: true` rewrites it")
    if value == "":
        return Plan("remove", None, f"kharden fix removes {item.flag} (enforced by the profile)")
    return Plan("replace", f"{item.flag}={value}", f"kharden fix rewrites {item.flag} (enforced by the profile)")


def _desired(item: cis.Item, written: Flag | None, opts: dict[str, Any]) -> str | None:
    current = [s for s in (written.value if written else "").split(",") if s]
    if item.check == "includes":
        return ",".join(current + [str(item.value)])
    if item.check == "excludes":
        return None if written is None else ",".join(s for s in current if s != item.value)
    if item.flag in OPT_VALUES:
        return str(opts.get(OPT_VALUES[item.flag]) or "") or None
    return None if item.value is None else str(item.value)


def containers(obj: KObject) -> Iterator[tuple[Path, dict[str, Any], str]]:
    """(path, container, component) for every control-plane container of an object's pod specs."""
    for target in find_pod_targets(obj, None):
        for path, container in target.containers():
            component = component_of(container)
            if component:
                yield path, container, component


def failing(container: dict[str, Any], component: str) -> Iterator[tuple[cis.Item, Flag | None]]:
    flags = flags_of(container)
    for item in cis.for_component(component, "flag"):
        written = flags.get(item.flag or "")
        if not (item.passes() if written is None else item.passes(written.value)):
            yield item, written


def check_control_plane(objects: list[KObject], opts: dict[str, Any] | None = None, status: str = "open",
                        kubelet_opts: dict[str, Any] | None = None) -> list[Finding]:
    """A finding per failing CIS item per control-plane container and KubeletConfiguration. `opts`/`kubelet_opts`:
    the controlPlane / kubeletConfiguration mutators' options (what `fix` would do is each finding's reason)."""
    opts = opts or {}
    out: list[Finding] = []
    for obj in objects:
        if _is_kubelet_config(obj):
            out += _kubelet_config(obj, kubelet_opts or {}, status)
            continue
        for path, container, component in containers(obj):
            flags = flags_of(container)
            for item, written in failing(container, component):
                where = path + (written.path if written else (_list_key(container), ))
                p = plan(item, flags, container, opts)
                shown = f" (written: {item.flag}={written.value})" if written else ""
                name = component if container.get("name") == component else f"{component} ({container.get('name')})"
                out.append(_finding(obj, item, f"{name}: expected {item.expectation()}{shown}", where, p.why, status))
    return out


def _list_key(container: dict[str, Any]) -> str:
    return "command" if isinstance(container.get("command"), list) else "args"


def _finding(obj: KObject, item: cis.Item, message: str, path: Path, why: str, status: str) -> Finding:
    extra = {**({"cis": item.cis} if item.cis != "none" else {}), **({"checkov": item.checkov} if item.checkov else {}),
             **({"needs": item.needs} if item.needs else {})}
    head = f"CIS {item.cis}: " if item.cis != "none" else f"{item.checkov}: "
    return Finding(obj.ref, item.rule, _SEVERITY.get(item.needs, "error"), head + message, path,
                   obj.line(path), status=status, reason=why, extra=extra)  # type: ignore[arg-type]


def _is_kubelet_config(obj: KObject) -> bool:
    return (obj.ref.api_version.rpartition("/")[0], obj.ref.kind) == KUBELET_CONFIG


def field_value(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _kubelet_config(obj: KObject, opts: dict[str, Any], status: str) -> list[Finding]:
    out = []
    for item in cis.for_component("kubelet", "field"):
        present, value = field_value(obj.data, item.field or "")
        if item.passes(value) if present else item.passes():
            continue
        path: Path = tuple(item.field.split(".")) if item.field else ()
        if item.fix == "enforce":
            why = ("kharden fix rewrites it (enforced by the profile)" if opts.get("enforce") else
                   "written explicitly; a profile with `enforce: true` rewrites it")
        else:
            why = NEEDS[item.needs or "decision"]
        shown = f" (written: {value!r})" if present else ""
        out.append(_finding(obj, item, f"KubeletConfiguration: expected {item.expectation()}{shown}", path, why,
                            status))
    return out
