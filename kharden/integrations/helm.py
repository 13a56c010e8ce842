"""Helm post-renderer: `kharden helm-post-render` hardens what `helm install/upgrade/template` rendered.

The contract Helm sets (3: `--post-renderer kharden --post-renderer-args helm-post-render`; 4: the
`postrenderer/v1` plugin in integrations/helm-plugin/):
  - the rendered manifests arrive on stdin as one stream, each document after a `# Source: <chart>/templates/...`
    comment; Helm 4 also annotates each object with `postrenderer.helm.sh/postrender-filename` and uses it to split
    the output back into files. The hardened stream goes to stdout: comments, annotations and order are the
    input's (the text is spliced, never re-emitted);
  - on failure: a message on stderr, a non-zero exit and nothing on stdout (Helm would install a half stream);
  - never empty output on success: an input with no objects is an error.

Hooks (`helm.sh/hook` annotation: tests, pre-install Jobs, ...) are hardened like everything else: they run pods
too. The NetworkPolicy generator sees hook workloads (the default-deny it makes applies to hook pods as well, so
their traffic must be allowed); no generator sees other hooks (`hidden_from`). Generated objects are appended at the end: for Helm 3
under `# Source: kharden/generated.yaml`; for Helm 4 (the input carries its filename annotation) with that
annotation set to `kharden-generated.yaml`, from which Helm writes the `# Source:` comment itself.
"""

from __future__ import annotations

from typing import Any

from kharden.render import fastdump
from kharden.errors import InputError, KhardenError
from kharden.find import find_pod_targets
from kharden.generators.networkpolicies import ID as NETPOL
from kharden.model import GENERATED_FILE
from kharden.pipeline import Hidden, Request, Result
from kharden.profile import Profile
from kharden.read import KObject, parse_text
from kharden.run import FixOutcome, end_line, execute

HOOK = "helm.sh/hook"
FILENAME = "postrenderer.helm.sh/postrender-filename"
GENERATED_SOURCE = "kharden/generated.yaml"


def is_hook(obj: KObject) -> bool:
    return obj.annotation(HOOK) is not None


def hidden_from(profile: Profile) -> Hidden:
    """Which objects each generator must not see: hooks, except hook workloads for the NetworkPolicy generator.

    A generated ServiceAccount is an ordinary release object: a pre-install hook pointed at it would start before it
    exists, so the RBAC generator never sees hooks. But the generated default-deny NetworkPolicy applies to every
    pod of the namespace, hooks included: a post-install Job or a `helm test` pod that calls the release is cut off
    unless its traffic is allowed like any workload's, so the NetworkPolicy generator sees hook workloads (those
    allowances outlive the hook; they allow only what the hook did). It does not see other hook objects: a hook
    NetworkPolicy (a `helm test` one, say) must not count as the namespace's isolation, nor a hook Service's ports
    be allowed after it is gone.
    """

    def hidden(generator: str, obj: KObject) -> bool:
        if not is_hook(obj):
            return False
        return generator != NETPOL or not find_pod_targets(obj, profile.pod_templates)

    return hidden


def post_render(text: str, profile: Profile, generate_: bool | None = None, *,
                records: bool = True) -> tuple[str, Result]:
    """Hardened stream for Helm's rendered stream: `kharden fix` of it, generated objects under Helm's `# Source:`
    comment. Raises KhardenError; returns text only when complete (the whole stream is made before a byte is
    written). `records`: the Result keeps its changes and findings (for --summary); without them each document is
    let go as soon as it is spliced (kharden.pipeline.finish)."""
    source = parse_text(text, "<helm>", lazy=True)  # read a range at a time, where the pipeline can (records)
    if next(source.objects(), None) is None:
        raise InputError("no Kubernetes objects on stdin: Helm sends the rendered chart there", file="-")
    result = execute(Request([source], profile, generate=generate_, hidden=hidden_from(profile), records=records))
    out = FixOutcome(result).text_of(source)
    helm4 = bool(result.generated) and any(o.annotation(FILENAME) is not None for o in source.objects())
    generated = generated_stream(result.generated, helm4)
    if generated and _content(out):
        out = end_line(out, "the generated objects")
    out += generated
    if not _content(out):
        raise KhardenError("internal error: empty output")
    return out, result


def _content(text: str) -> bool:
    """`bool(text.strip())` without its copy of the text (a hardened render is tens of MB)."""
    return bool(text) and not text.isspace()


def generated_stream(generated: list[dict[str, Any]], helm4: bool) -> str:
    """Each generated object as `kharden fix` writes it, after a `---` and, for Helm 3, a `# Source:` comment as
    Helm writes them. Helm 4 writes that comment itself, from the filename annotation it files each object by."""
    if helm4:
        for obj in generated:
            obj.setdefault("metadata", {}).setdefault("annotations", {})[FILENAME] = GENERATED_FILE
    head = "---\n" + ("" if helm4 else f"# Source: {GENERATED_SOURCE}\n")
    return "".join(head + text for text in fastdump.safe_dump_each(generated))
