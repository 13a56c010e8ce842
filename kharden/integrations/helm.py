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
too. But generators never see them: a NetworkPolicy or ServiceAccount derived from a hook would be a regular release
object that outlives the hook, and a pre-install hook pod pointed at a generated ServiceAccount would start before
that account exists. Generated objects are appended at the end under `# Source: kharden/generated.yaml` (and, when
the input carries Helm 4's filename annotation, with that annotation set to `kharden-generated.yaml`).
"""

from __future__ import annotations

from typing import Any

from kharden import run
from kharden.errors import InputError, KhardenError
from kharden.pipeline import Result
from kharden.profile import Profile
from kharden.read import KObject, parse_text

HOOK = "helm.sh/hook"
FILENAME = "postrenderer.helm.sh/postrender-filename"
GENERATED_SOURCE = "kharden/generated.yaml"
GENERATED_FILENAME = "kharden-generated.yaml"


def is_hook(obj: KObject) -> bool:
    return obj.annotation(HOOK) is not None


def post_render(text: str, profile: Profile, generate_: bool | None = None) -> tuple[str, Result]:
    """Hardened stream for Helm's rendered stream: `kharden fix` of it, generated objects under Helm's `# Source:`
    comment. Raises KhardenError; returns text only when complete."""
    source = parse_text(text, "<helm>")
    objects = list(source.objects())
    if not objects:
        raise InputError("no Kubernetes objects on stdin: Helm sends the rendered chart there", file="-")
    outcome = run.fix_sources([source], profile, generate=generate_, hidden_from_generators=is_hook)
    out = outcome.text_of(source)
    helm4 = any(o.annotation(FILENAME) is not None for o in objects)
    generated = generated_stream(outcome.result.generated, helm4)
    if generated and out.strip():
        out = (out if out.endswith("\n") else run.end_line(out, "the generated objects")) + generated
    else:
        out += generated
    if not out.strip():
        raise KhardenError("internal error: empty output")
    return out, outcome.result


def generated_stream(generated: list[dict[str, Any]], helm4: bool) -> str:
    """Each generated object as `kharden fix` writes it, after a `---` and Helm's `# Source:` comment."""
    parts = []
    for obj in generated:
        if helm4:
            obj.setdefault("metadata", {}).setdefault("annotations", {})[FILENAME] = GENERATED_FILENAME
        parts.append(f"---\n# Source: {GENERATED_SOURCE}\n" + run.dump(obj))
    return "".join(parts)
