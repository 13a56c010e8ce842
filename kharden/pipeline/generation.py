"""The generate stage: every enabled generator over the whole input, protected namespaces spared."""

from __future__ import annotations

from typing import Any

from kharden.cluster.flags import generators_skip
from kharden.generators import GENERATORS
from kharden.know import protected
from kharden.mutators.base import Editor
from kharden.pipeline.request import Hidden, Result
from kharden.profile import Profile


def generate(result: Result, profile: Profile, enabled: bool | None, hidden: Hidden | None = None,
             **gen_args: Any) -> None:
    """Every enabled generator over the whole input (a NetworkPolicy for one file's Deployment may answer a Service
    in another); their edits of existing objects are Changes like the mutators'. Protected namespaces get no
    edit (made on copies, reported) and no generated object (reported)."""
    spared = frozenset(profile.protected_namespaces)
    held = protected.Held()
    skipped = {o.ref for o in result.objects if generators_skip(o)}  # static control-plane pods, config files
    for gid, opts in profile.generators.items():
        on = opts.enabled if enabled is None else enabled
        if on:
            out = GENERATORS[gid].generate(
                result.objects if hidden is None and not skipped else
                [o for o in result.objects if o.ref not in skipped and not (hidden and hidden(gid, o))],
                opts,
                lambda o, g=gid: (Editor(held.twin(o), g, held.changes(o)) if protected.covers(o.ref, spared)
                                  else Editor(o, g, result.changes)),
                pod_templates=profile.pod_templates,
                generated=list(result.generated),
                **gen_args,
            )
            for o in out.objects:  # nothing is generated into a protected namespace: reported instead
                if (o.get("metadata") or {}).get("namespace") in spared:
                    result.findings.append(protected.dropped(o, gid))
                else:
                    result.generated.append(o)
            # what a generator says about a protected object concerns edits and policies not made there
            result.findings += [f for f in out.findings if f.obj is None or not protected.covers(f.obj, spared)]
    result.findings += held.report()
