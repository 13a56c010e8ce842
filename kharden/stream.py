"""Stream mode: harden a YAML stream with libyaml load -> mutate -> libyaml dump, keeping no comments.

For machines, not people: the Helm post-renderer and the KRM function receive a stream that a tool rendered and
that another tool reads next, so there is no formatting to keep. This path skips everything the faithful path
needs for that (node positions, splicing, verifying the re-parse) and so runs close to the speed of libyaml:

    kind: Deployment   # web           kind: Deployment
    spec: ...                    ->    spec: ... securityContext: {...}   (same objects as `fix`, comments gone)

Objects are the same as the faithful path gives (a test compares them over the corpus): the same mutators and
generators run on the same values. YAML 1.1 meaning is kept: SafeDumper quotes every string a YAML 1.1 reader would
take for something else ("yes", "0644", "1.10"). Empty documents (only comments) carry no object and are dropped;
document numbers in changes and findings are those of the input, as in the faithful path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from kharden.errors import KhardenError
from kharden.model import Path
from kharden.fastdump import Dumper as _Dumper  # libyaml's C emitter, plain values represented directly
from kharden.pipeline import Result, harden
from kharden.profile import Profile
from kharden.read import Document, Source, parse_text


@dataclass
class StreamOutcome:
    """The hardened stream and the record it came from (changes, findings, generated objects)."""

    text: str
    result: Result

    @property
    def summary(self) -> str:
        from kharden.render import report

        r = self.result
        return report.fix_summary(r.changes, r.findings, len(r.generated))


def load(text: str, path: str = "-", pod_templates: dict[tuple[str, str], Path] | None = None) -> Source:
    """A Source read exactly as `fix` reads it: the same limits, checks and errors, duplicate keys refused, object
    shapes validated (`pod_templates`: the profile's custom kinds). Each document is validated while its node tree
    exists, then lets go of it, so memory holds values only (10k objects in one stream: 240 MB peak, not 517 MB)."""
    from kharden.read.validate import validate_source

    problems: list[KhardenError] = []
    source_text = text[1:] if text.startswith("\ufeff") else text  # as parse_text keeps it

    def validate_and_drop(doc: Document) -> None:
        one = Source(doc.path, source_text, docs=[doc])
        problems.extend(validate_source(one, pod_templates=pod_templates))
        doc.node = None

    source = parse_text(text, path, validate_and_drop)
    if problems:  # as `fix`: a YAML error anywhere first, then the first ill-shaped document
        raise problems[0]
    return source


def dump(values: list[Any]) -> str:
    """One YAML stream, `---` between documents, keys in their original order."""
    return yaml.dump_all(
        values, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 16, allow_unicode=True
    )


def fix_stream(text: str, profile: str | Profile, *, path: str = "-", generate: bool | None = None,
               **gen_args: Any) -> StreamOutcome:
    """Harden a whole stream in memory: the documents, then the generated objects, as one YAML stream."""
    from kharden.run import resolve_profile

    prof = resolve_profile(profile)
    source = load(text, path, prof.pod_templates)
    result = harden([source], prof, generate_=generate, **gen_args)
    kept = [d.data for d in source.docs if d.data is not None]  # documents of comments only: nothing to keep
    return StreamOutcome(dump(kept + result.generated), result)
