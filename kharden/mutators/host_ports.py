"""hostPorts: with `enforce: true`, container ports lose their `hostPort`.

    ports:                       ->   ports:
    - containerPort: 80               - containerPort: 80
      hostPort: 80

The container port itself stays. `hostPort: 0` means "none" and is left alone. Without `enforce` nothing changes
and the checker reports the violation (PSS baseline).
"""

from __future__ import annotations

from dataclasses import dataclass

from kharden.find.podspecs import PodTarget
from kharden.mutators.base import Editor
from kharden.mutators.common import ENFORCED, containers
from kharden.options import ProfileOptions

ID = "hostPorts"
SCOPE = "pod"


@dataclass(frozen=True)
class Options(ProfileOptions):
    enforce: bool = False


def apply(target: PodTarget, opts: Options, edit: Editor) -> None:
    if not opts.enforce:
        return
    for path, container in containers(target, edit):
        ports = container.get("ports")
        if not isinstance(ports, list):
            continue
        for index, port in enumerate(ports):
            if isinstance(port, dict) and port.get("hostPort") not in (None, 0):
                edit.remove(path + ("ports", index, "hostPort"), f"host port removed: {ENFORCED}")
