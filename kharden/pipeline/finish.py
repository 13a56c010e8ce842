"""The last stage of `fix`: each changed document's edits spliced into its source's text, read back as intended.

When the edge renders only the texts (`Request.records` False: Helm's post-renderer, `fix -q` to stdout) and no
generator runs (a generator reads every object and may edit any of them), nothing reads a document again once its
mutators are done with it. The pipeline then takes the input a range of documents at a time
(kharden.read.parts.RANGE): read the range (a lazy source reads it only now), validate it, mutate it, make and
read back its edits, and let its documents go (node tree, value, caches). What the mutators need from the whole
input is learned first: the RoleBindings (`bindings`: only ranges whose text could hold one are read for it).
What stays per document is its text edits; the texts are made at the end, before the edge writes a byte. So the
memory of one long stream is its text, the output and one range, not a node tree and a value per object.

Otherwise every document stays until the end (generators, unfixed findings and reports read them), and each
source's changes are spliced and read back in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kharden.errors import InternalError
from kharden.know import learn
from kharden.know.api_use import Binding, read_bindings
from kharden.model import Change
from kharden.pipeline.mutation import mutate
from kharden.pipeline.request import Request, Result
from kharden.profile import Profile
from kharden.read import Source
from kharden.read import parts
from kharden.read.validate import validate_source
from kharden.render import fastverify, splice


def early(request: Request, profile: Profile) -> bool:
    """Whether documents are finished as soon as they are mutated: nothing after the mutators reads them."""
    if request.records or not request.splice or request.deployed is not None or request.generator_inputs:
        return False
    return not any(opts.enabled if request.generate is None else request.generate
                   for opts in profile.generators.values())


def in_ranges(request: Request, profile: Profile, result: Result) -> None:
    """Fix the sources a range of documents at a time, letting each go once spliced (the module's docstring).
    The first problem met, in the input's order, is raised: nothing is written, as ever."""
    splicing = Splicing(release=True)
    everyone = bindings(result.sources)
    for source in result.sources:
        start = 0
        while start < len(source.docs):  # re-measured: a source that cannot be read a range at a time is read whole
            docs = range(start, min(start + parts.RANGE, len(source.docs)))
            part = list(source.objects(docs))
            errors = validate_source(source, pod_templates=profile.pod_templates, docs=docs)
            if errors:
                raise errors[0]
            changes: list[Change] = []
            mutate(part, profile, changes, [], images=request.images, know=learn(part, profile, bindings=everyone))
            splicing.add(source, changes, docs)
            start = docs.stop
    result.outputs = splicing.texts(result.sources)


def bindings(sources: list[Source]) -> tuple[Binding, ...]:
    """The RoleBindings and ClusterRoleBindings of the whole input, in order. Of a lazy source, only the ranges whose
    text could hold one are read (the text says `Binding`, or has a `\\` escape that could spell it), then let go."""
    out: list[Binding] = []
    for source in sources:
        for start in range(0, len(source.docs), parts.RANGE):
            docs = range(start, min(start + parts.RANGE, len(source.docs)))
            lazy = source.lazy
            if lazy is not None and "Binding" not in (text := lazy.text_of(docs)) and "\\" not in text:
                continue
            unread = [i for i in docs if source.docs[i].pending]
            out += read_bindings(source.objects(docs))
            if source.lazy is not None:
                for i in unread:
                    source.docs[i].release()
    return tuple(out)


@dataclass
class Splicing:
    """The edits of each source, gathered range by range, and its new text made as far as the edits are known."""

    release: bool  # let each range's documents go once their edits are read back
    edits: dict[str, list[splice.Edit]] = field(default_factory=dict)  # by source path: not yet in `made`
    made: dict[str, str] = field(default_factory=dict)  # the new text of a lazy source up to `upto`
    upto: dict[str, int] = field(default_factory=dict)
    kept: dict[str, set[int]] = field(default_factory=dict)  # documents only the whole text's reading can check

    def add(self, source: Source, changes: list[Change], docs: range) -> None:
        """A range's changes: its edits made and read back; its documents let go when they read back as intended,
        and the new text made up to them (their edits are a few strings each, but many: the text is smaller)."""
        if changes:
            edits, verified = fastverify.verified_edits(source, changes)
            self.edits.setdefault(source.path, []).extend(edits)
            if not verified:  # splice.verify reads the whole output at the end: these documents stay till then
                self.kept.setdefault(source.path, set()).update(docs)
                return
        if self.release:
            for i in docs:
                source.docs[i].release()
            if source.lazy is not None and docs.stop < len(source.docs):
                self._make(source, source.lazy.offset_of(docs.stop))

    def _make(self, source: Source, upto: int) -> None:
        """The new text made up to `upto` (where a document not yet edited starts), with the edits before it."""
        edits, at = self.edits.get(source.path, []), self.upto.get(source.path, 0)
        if upto < len(source.text) and (not edits or source.path in self.kept or any(e > upto for _, e, _ in edits)):
            return  # nothing to make yet, an edit reaches past `upto`, or some did not read back: made at the end
        if any(s < at for s, _, _ in edits):  # a document's edits lie in its own text, which starts at or after `at`
            raise InternalError("internal error: an edit before the text already made; nothing was written "
                                "(please report this with the input)", file=source.path)
        text = self.made.pop(source.path, "")  # held here alone: `+=` then grows it in place, without a copy
        text += splice._apply(source.text[at:upto], [(s - at, e - at, new) for s, e, new in edits])
        self.made[source.path], self.upto[source.path] = text, upto
        edits.clear()

    def texts(self, sources: list[Source]) -> dict[str, str]:
        """Each changed source's new text; where a range did not read back on its own, the whole text is read."""
        out = {}
        for s in sources:
            if s.path in self.edits:
                self._make(s, len(s.text))
                full = ("\ufeff" if s.bom else "") + self.made.pop(s.path)
                if s.path in self.kept:
                    splice.verify(s, full, self.kept[s.path] if self.release else None)
                out[s.path] = full
        return out
