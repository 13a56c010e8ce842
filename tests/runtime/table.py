"""Run every image in every variant and write the table into docs/runtime.md (between its table markers).

    python -m tests.runtime.table            # rewrite the table in docs/runtime.md
    python -m tests.runtime.table --print    # print it only

Needs what the runtime tests need (root, runc, mmdebstrap, docker-registry, skopeo, iproute2).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

from tests.runtime import components, scenarios
from tests.runtime.build import all_images
from tests.runtime.runner import REPO

DOC = REPO / "docs" / "runtime.md"
BEGIN, END = "<!-- runtime-table:begin -->", "<!-- runtime-table:end -->"
HEADINGS = {"original": "original manifest", "hardened": "`kharden fix` (no image knowledge)",
            "catalog": "`kharden fix` naming the official image (catalog)",
            "configured": "`kharden fix --image-config` (skopeo inspect --config)",
            "resolved": "`kharden fix --resolve-images`"}


def _cell(result: scenarios.Result) -> str:
    outcome = result.outcome
    detail = outcome.detail.replace("|", "\\|")
    return ("serves — " if outcome.serves else "**fails** — ") + detail


def results() -> list[scenarios.Result]:
    from tests.registry_helpers import registry

    prepared = {p.image.name: p for p in all_images()}
    variants = [variant for variant in scenarios.VARIANTS if scenarios.kharden_knows(variant)]
    out = []
    with registry() as reg, tempfile.TemporaryDirectory(prefix="kharden-runtime-") as work:
        references = {name: reg.push(p.layout, "1", f"library/{name}:1") for name, p in prepared.items()}
        configs = scenarios.write_image_configs(references, Path(work))
        for scenario in scenarios.SCENARIOS:
            p, reference = prepared[scenario.image], references[scenario.image]
            out += [scenarios.run(scenario, p, reference, variant, Path(work), configs, Path(work) / "image-cache")
                    for variant in variants]
    return out


def render(found: list[scenarios.Result]) -> str:
    variants = list(dict.fromkeys(r.variant for r in found))
    lines = ["| pod | " + " | ".join(HEADINGS[v] for v in variants) + " |",
             "|---|" + "---|" * len(variants)]
    for name in dict.fromkeys(r.image for r in found):
        row = {r.variant: _cell(r) for r in found if r.image == name}
        lines.append(f"| {name} | " + " | ".join(row[v] for v in variants) + " |")
    settings = [f"- {r.image}, {r.variant}: pod `{r.security['pod']}`, container `{r.security['container']}`, "
                f"volume mounts {r.security['mounts']}" + "".join(f"; kharden: {_quiet(n)}" for n in r.notes)
                for r in found if r.variant != "original"]
    return ("\n".join(lines) + "\n\nWhat each hardened pod ran with, and what kharden said of its image:\n\n"
            + "\n".join(settings) + "\n")


def _quiet(note: str) -> str:
    """A note without what changes from run to run: the registry's port, temporary file names."""
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", re.sub(r"/tmp/[^ :,)]+", "FILE", note))


def write(table: str) -> None:
    text = DOC.read_text()
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(f"{head}{BEGIN}\n{table}{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, leave docs/runtime.md alone")
    options = parser.parse_args()
    reason = components.skip_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    started = time.monotonic()
    table = render(results())
    print(table)
    print(f"({time.monotonic() - started:.0f}s)", file=sys.stderr)
    if not options.print:
        write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
