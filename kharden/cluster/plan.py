"""What `fix` may do about a failing CIS item on a control-plane container: `plan(item, flags, container, opts)`.

The one decision both the check (a reason in the report) and the controlPlane mutator (an edit) take: add an
absent flag, append to a written list (authorization modes, admission plugins), rewrite a written value (only with
the profile's `enforce: true`), or nothing and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kharden.cluster import cis
from kharden.cluster.fixopts import ControlPlaneOptions
from kharden.cluster.flags import Flag
from kharden.cluster.guards import GUARDS

NEEDS = {
    "cluster-files": "needs a file on the node (a certificate, key or configuration) kharden cannot know or create",
    "decision": "a trade-off for the cluster's operator; kharden reports it",
    "obsolete": "the flag no longer exists in current Kubernetes; setting it would stop the component starting",
    "checkov-only": "checkov's own rule (no CIS item, no security effect); renaming the file needs the node",
}
OPT_VALUES = {"--audit-log-path": "audit_log_path", "--audit-policy-file": "audit_policy_file"}  # option fields
KUBELET_CONFIG = ("kubelet.config.k8s.io", "KubeletConfiguration")


@dataclass(frozen=True)
class Plan:
    op: str | None  # "add" | "replace" | "remove" | None (not fixed)
    new: str | None  # the new list element, "--flag=value"
    why: str  # why not fixed, or what the fix does


def plan(item: cis.Item, flags: dict[str, Flag], container: dict[str, Any], opts: ControlPlaneOptions) -> Plan:
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
    if not opts.enforce:
        return Plan(None, None, "written explicitly; a profile with `enforce: true` rewrites it")
    if value == "":
        return Plan("remove", None, f"kharden fix removes {item.flag} (enforced by the profile)")
    return Plan("replace", f"{item.flag}={value}", f"kharden fix rewrites {item.flag} (enforced by the profile)")


def _desired(item: cis.Item, written: Flag | None, opts: ControlPlaneOptions) -> str | None:
    current = [s for s in (written.value if written else "").split(",") if s]
    if item.check == "includes":
        return ",".join(current + [str(item.value)])
    if item.check == "excludes":
        return None if written is None else ",".join(s for s in current if s != item.value)
    if item.flag in OPT_VALUES:
        return str(getattr(opts, OPT_VALUES[item.flag]) or "") or None
    return None if item.value is None else str(item.value)


def field_value(data: dict[str, Any], dotted: str) -> tuple[bool, Any]:
    node: Any = data
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node
