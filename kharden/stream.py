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

from kharden.errors import InputError
from kharden.gcpause import paused
from kharden.pipeline import Result, harden
from kharden.profile import Profile
from kharden.read import Document, Source

from kharden.fastdump import Dumper as _Dumper  # libyaml's C emitter, plain values represented directly
from kharden.read.fastload import Loader as _Loader  # libyaml's C loader, values built directly


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


def load(text: str, path: str = "-") -> Source:
    """A Source whose documents carry values only (no node tree): libyaml's C loader, YAML 1.1 like the API server."""
    if text.startswith("\ufeff"):
        text = text[1:]
    from kharden.read import limits

    limits.check_text(text, path)  # deep nesting would crash libyaml before any value exists
    source = Source(path=path, text=text)
    index = 0
    try:
        for data in yaml.load_all(text, Loader=_Loader):
            source.docs.append(Document(source, index, None, data))
            index += 1
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = "not valid YAML: " + ", ".join(p for p in (e.context, e.problem) if p)
        raise InputError(message, file=path, doc=index, line=line, column=column) from None
    except yaml.YAMLError as e:
        raise InputError(f"not valid YAML: {e}", file=path, doc=index) from None
    except RecursionError:
        raise InputError("nesting too deep", file=path, doc=index) from None
    return source


def dump(values: list[Any]) -> str:
    """One YAML stream, `---` between documents, keys in their original order."""
    return yaml.dump_all(
        values, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1 << 16, allow_unicode=True
    )


@paused
def fix_stream(text: str, profile: str | Profile, *, path: str = "-", generate: bool | None = None,
               **gen_args: Any) -> StreamOutcome:
    """Harden a whole stream in memory: the documents, then the generated objects, as one YAML stream."""
    from kharden.run import resolve_profile, validate  # validate: the object checks `fix` makes

    source = load(text, path)
    prof = resolve_profile(profile)
    validate([source], prof)
    result = harden([source], prof, generate_=generate, **gen_args)
    kept = [d.data for d in source.docs if d.data is not None]  # documents of comments only: nothing to keep
    return StreamOutcome(dump(kept + result.generated), result)
