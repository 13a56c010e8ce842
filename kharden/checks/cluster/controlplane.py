"""CIS items on control-plane static pods and KubeletConfiguration objects: what fails, and what `fix` would do
(kharden.cluster.plan decides; each finding's reason says it)."""

from __future__ import annotations

from typing import Any, Iterator

from kharden.cluster import cis
from kharden.cluster.fixopts import NO_PROFILE, ControlPlaneOptions, Enforcing
from kharden.cluster.flags import Flag, component_of, flags_of
from kharden.cluster.plan import KUBELET_CONFIG, NEEDS, field_value, plan
from kharden.find import find_pod_targets
from kharden.model import Finding, Path, Severity
from kharden.read import KObject

_SEVERITY: dict[str | None, Severity] = {"obsolete": "info", "checkov-only": "info", "decision": "warning"}


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


def check_control_plane(objects: list[KObject], opts: ControlPlaneOptions = NO_PROFILE, status: str = "open",
                        kubelet_opts: Enforcing = NO_PROFILE) -> list[Finding]:
    """A finding per failing CIS item per control-plane container and KubeletConfiguration. `opts`/`kubelet_opts`:
    the controlPlane / kubeletConfiguration mutators' options (what `fix` would do is each finding's reason)."""
    out: list[Finding] = []
    for obj in objects:
        if _is_kubelet_config(obj):
            out += _kubelet_config(obj, kubelet_opts, status)
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


def _kubelet_config(obj: KObject, opts: Enforcing, status: str) -> list[Finding]:
    out = []
    for item in cis.for_component("kubelet", "field"):
        present, value = field_value(obj.data, item.field or "")
        if item.passes(value) if present else item.passes():
            continue
        path: Path = tuple(item.field.split(".")) if item.field else ()
        if item.fix == "enforce":
            why = ("kharden fix rewrites it (enforced by the profile)" if opts.enforce else
                   "written explicitly; a profile with `enforce: true` rewrites it")
        else:
            why = NEEDS[item.needs or "decision"]
        shown = f" (written: {value!r})" if present else ""
        out.append(_finding(obj, item, f"KubeletConfiguration: expected {item.expectation()}{shown}", path, why,
                            status))
    return out
