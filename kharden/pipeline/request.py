"""The pipeline's typed request and result: what to run on which input, and the record every rendering is made
from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping, Sequence

from kharden.errors import KhardenError
from kharden.know.images import Knowledge as Images
from kharden.model import Change, Finding
from kharden.profile import Profile
from kharden.read import KObject, Source

Hidden = Callable[[str, KObject], bool]  # (generator id, object): keep this object from that generator


@dataclass(frozen=True)
class Request:
    """What to run on which input. Every field but `sources` has the default `kharden fix` uses."""

    sources: Sequence[Source]
    profile: Profile | None  # None: `check` with no profile (the PSS controls of `pss` only)
    mode: Literal["fix", "check"] = "fix"
    generate: bool | None = None  # every generator on/off; None: as the profile says
    only_generator: str | None = None  # `kharden generate rbac`: only this generator, as the profile sets it
    hidden: Hidden | None = None  # objects hardened but kept from a generator (Helm hooks)
    deployed: Callable[[KObject], bool] | None = None  # only these are hardened (KRM: not local-config, Kptfile)
    generator_inputs: Mapping[str, Any] = field(default_factory=dict)  # e.g. audit_log, for the RBAC generator
    pss: str | None = None  # check: the PSS level (default: the profile's, else restricted)
    pss_version: str = "latest"
    kube_version: str | None = None  # check without a profile: the release API versions are checked against
    rbac: bool = False  # check: the RBAC checks too (always with a profile; `--pss` alone is the PSS controls only)
    splice: bool = True  # fix: make each changed source's new text (KRM re-serialises its list instead)
    images: Images | None = None  # image configs the edge read (--image-config, --resolve-images); else catalog
    # fix: the edge renders changes and findings (a summary, a report, a patch). False (Helm's post-renderer, `fix
    # -q` to stdout): it writes the texts only, so each document is let go once spliced (kharden.pipeline.finish)
    records: bool = True


@dataclass
class Result:
    """The record every rendering is made from: YAML, diff, JSON patch, KRM results, SARIF, reports."""

    sources: list[Source]
    objects: list[KObject]
    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)  # source path -> new text, for changed sources only
    errors: dict[str, list[KhardenError]] = field(default_factory=dict)  # check: objects it could not check
