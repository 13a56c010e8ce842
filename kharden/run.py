"""The edges' shared work: read files, run the one pipeline (kharden.pipeline), render and write its Result.

Used by the CLI and the integrations; the pipeline itself does no I/O."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, TextIO

import yaml

from kharden import pipeline
from kharden.render import fastdump
from kharden.errors import KhardenError
from kharden.model import GENERATED_FILE, Finding
from kharden.pipeline import Hidden, Request, Result
from kharden.profile import Profile, load_profile
from kharden.read import Source
from kharden.files.discover import discover
from kharden.read.source import read_paths, read_source
from kharden.render import report


@dataclass
class FixOutcome:
    """A fix's Result and its renderings: the stream, a diff, a JSON patch, the files written."""

    result: Result

    @property
    def outputs(self) -> dict[str, str]:
        """Source path -> new text, only for sources that changed."""
        return self.result.outputs

    @property
    def changed(self) -> bool:
        return bool(self.outputs) or bool(self.result.generated)

    @property
    def summary(self) -> str:
        r = self.result
        return report.fix_summary(r.changes, r.findings, len(r.generated))

    def text_of(self, source: Source) -> str:
        return self.outputs.get(source.path, ("\ufeff" if source.bom else "") + source.text)

    def stream(self) -> str:
        """All sources (changed or not), in order, then the generated objects: one YAML stream."""
        parts: list[str] = []
        for s in self.result.sources:
            text = self.text_of(s)
            if parts:  # between files only: a last line stays as it is
                parts[-1] = end_line(parts[-1], s.path)
            if parts and text.strip() and not text.lstrip("\ufeff").startswith("---"):
                parts.append("---\n")
            parts.append(text)
        generated = self.generated_stream(separator=bool(parts))
        if generated and parts:
            parts[-1] = end_line(parts[-1], "the generated objects")
        return "".join(parts) + generated

    def generated_stream(self, separator: bool = True) -> str:
        dumped = dump_each(self.result.generated)
        return "".join(("---\n" if separator or i else "") + text for i, text in enumerate(dumped))

    def diff(self) -> str:
        from kharden.render import diff as diff_render  # difflib: only --diff pays for its import

        out = "".join(diff_render.unified(s.path, s.text, self.text_of(s).lstrip("\ufeff")) for s in self.result.sources)
        if self.result.generated:
            out += diff_render.unified(GENERATED_FILE, "", self.generated_stream(separator=False))
        from kharden.secrets import redact

        return redact(out, self.result.findings)  # no credential found is ever shown (kharden.secrets.redact)

    def jsonpatch(self) -> dict[str, Any]:
        from kharden.render import patch

        return {"patches": patch.patches(self.result.changes), "generated": self.result.generated}

    def files(self, output_dir: str | None = None, generated_file: str | None = None,
              targets: dict[str, str] | None = None) -> dict[str, str]:
        """path -> text of every file `-i` (the changed ones) or `-o DIR` (every one) writes, and of the generated
        objects. All texts are made first, before anything is written (kharden.tree.write): a text that cannot be
        made (a join `end_line` refuses) fails the run with no file written."""
        texts: dict[str, str] = {}
        for s in self.result.sources:
            if output_dir is None and s.path not in self.outputs:
                continue  # unchanged files are not touched at all
            if output_dir is None:
                texts[s.path] = self.text_of(s)
            else:  # the input tree mirrored (kharden.tree.outputs)
                texts[targets[s.path] if targets else os.path.join(output_dir, _relative(s.path))] = self.text_of(s)
        if self.result.generated:
            target = generated_target([s.path for s in self.result.sources], output_dir, generated_file)
            real = os.path.realpath(target) if output_dir is None else None
            same = [s for s in self.result.sources if real is not None and os.path.realpath(s.path) == real]
            if same:  # -i and the file of earlier runs: keep it, append the new objects
                before = self.text_of(same[0])
                if before:
                    before = end_line(before, "the generated objects")
                texts[same[0].path] = before + self.generated_stream(separator=bool(before.strip()))
            else:
                texts[target] = self.generated_stream(False)
        return texts


def generated_target(paths: list[str], output_dir: str | None, generated_file: str | None) -> str:
    """Where `-i`/`-o` put generated objects: --generated-file, else kharden-generated.yaml beside the first input
    (in the output directory with -o)."""
    if generated_file:
        return generated_file
    first = paths[0] if paths else "."
    base = output_dir or (first if os.path.isdir(first) else os.path.dirname(first))
    return os.path.join(base or ".", GENERATED_FILE)


def earlier_generated(paths: list[str], generated_file: str | None) -> list[str]:
    """The generated-objects file of an earlier run, when it exists (the caller leaves it out when its walk found
    it already: kharden.tree.runs.plan)."""
    target = generated_target(paths, None, generated_file)
    return [target] if os.path.isfile(target) else []


def end_line(text: str, before: str) -> str:
    """`text`, ending in a line break, meaning the same: more documents follow it in one stream.

    A text that ends in a line break already is returned as it is. A line break appended changes no value unless
    the text ends in a block scalar (`|`, `>`) whose clip or keep chomping would take the new line break into the
    value. Then that scalar's header is made to strip instead (`|` -> `|-`, `>2+` -> `>2-`): with the line break
    added, the value is exactly what it was. When the text ends in such a scalar, both texts are read and compared
    (plain text first: comments may follow the scalar); if they still differ, the join is refused.
    """
    if text.endswith("\n"):
        return text
    stripped = _stripping_last_block_scalar(text)
    if stripped == text:  # the last value is no block scalar that clips or keeps: a line break changes nothing
        return text + "\n"
    try:
        want = list(yaml.load_all(text, Loader=yaml.CSafeLoader))
    except yaml.YAMLError:
        return text + "\n"  # not YAML kharden reads: nothing to keep but the bytes
    for candidate in (text + "\n", stripped + "\n"):
        try:
            same = list(yaml.load_all(candidate, Loader=yaml.CSafeLoader)) == want
        except yaml.YAMLError:
            same = candidate == text + "\n"
        if same:
            return candidate
    raise KhardenError(
        f"cannot put {before} after a text whose last value is a block scalar without a final line break "
        "(the value would gain a newline); end that file with a line break, or process it on its own"
    )


def _stripping_last_block_scalar(text: str) -> str:
    """`text` with the header of its last value, when that is a block scalar, set to strip chomping."""
    from kharden.render.splice import last_scalar, strip_chomping

    try:
        docs = [d for d in yaml.compose_all(text, Loader=yaml.CSafeLoader) if d is not None]
    except yaml.YAMLError:
        return text
    edit = strip_chomping(last_scalar(docs[-1]), text) if docs else None
    return text if edit is None else text[: edit[0]] + edit[2] + text[edit[1]:]


def _relative(path: str) -> str:
    rel = os.path.relpath(path)
    return os.path.basename(path) if rel.startswith("..") else rel


def write_text(text: str, stream: TextIO) -> None:
    """Write a text that is complete (nothing is written on failure) in slices: one write of a whole text makes its
    encoded copy at once, as big again as the text."""
    for at in range(0, len(text), _SLICE):
        stream.write(text[at:at + _SLICE])


_SLICE = 1 << 20


def dump(obj: dict[str, Any]) -> str:
    """A generated object as YAML, as every output of `fix` writes it: the bytes of
    yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=1 << 16), by libyaml where it can."""
    return fastdump.safe_dump(obj)


def dump_each(objs: list[dict[str, Any]]) -> list[str]:
    """`[dump(o) for o in objs]`, the same texts, faster."""
    return fastdump.safe_dump_each(objs)


def resolve_profile(profile: str | Profile) -> Profile:
    return profile if isinstance(profile, Profile) else load_profile(profile)


def fix_sources(
    sources: list[Source],
    profile: str | Profile,
    *,
    generate: bool | None = None,
    audit_log: str | None = None,
    only_generator: str | None = None,
    hidden_from_generators: Hidden | None = None,
    image_options: dict[str, Any] | None = None,
    records: bool = True,
) -> FixOutcome:
    """`kharden fix` of sources already read: the pipeline.
    `image_options` (config_path, resolve, platform, insecure, cache_dir): image configs are read from files or
    registries first (kharden.images.learn); without them the pipeline knows images from its catalog only.
    `records` False: only the texts are rendered (no summary, report or patch): see Request.records."""
    prof = resolve_profile(profile)
    knowledge = _learn_images(sources, prof, image_options) if image_options else None
    request = Request(sources, prof, generate=generate, only_generator=only_generator,
                      hidden=hidden_from_generators, generator_inputs={"audit_log": audit_log} if audit_log else {},
                      images=knowledge, records=records)
    return FixOutcome(execute(request))


def _learn_images(sources: list[Source], profile: Profile, options: dict[str, Any]) -> Any:
    from kharden.images.learn import learn
    from kharden.know.images import images_in

    return learn(images_in([o for s in sources for o in s.objects()], profile.pod_templates), **options)


def execute(request: Request) -> Result:
    """The pipeline as every edge runs it (the CLI tunes the collector for the whole command: kharden.gcpause)."""
    return pipeline.run(request)


def fix(paths: list[str], profile: str | Profile, **kw: Any) -> FixOutcome:
    """`kharden fix` of files and directories ("-": stdin). `jobs` is accepted and ignored: see docs/performance.md."""
    kw.pop("jobs", None)
    prof = resolve_profile(profile)  # a bad profile is reported before any file is read
    return fix_sources(read_paths(discover(paths).paths), prof, **kw)


def validate(sources: list[Source], profile: Profile | None = None) -> None:
    """Refuse ill-shaped input before anything is changed: the first problem, located."""
    pipeline.validate(sources, profile)


def check(
    paths: list[str], *, pss: str | None, version: str = "latest", profile: str | None = None, jobs: int = 1,
    kube_version: str | None = None,
) -> tuple[list[Finding], list[KhardenError]]:
    """Findings for every readable file; files (and objects) that cannot be read are returned as errors, in input
    order, not raised. `jobs` is accepted and ignored. `kube_version`: the release API versions are checked
    against (with a profile, set in it)."""
    prof = load_profile(profile).with_kube_version(kube_version) if profile else None
    sources: list[Source] = []
    unread: dict[str, KhardenError] = {}
    files = discover(paths).paths
    for p in files:
        try:
            sources.append(read_source(p))
        except KhardenError as e:
            unread[p] = e
    result = execute(Request(sources, prof, mode="check", pss=pss, pss_version=version,
                             kube_version=None if prof else kube_version))
    errors = [e for p in files for e in ([unread[p]] if p in unread else result.errors.get(p, []))]
    return result.findings, errors
