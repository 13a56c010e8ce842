"""What the image, secret and API-version checks add to `kharden check --profile` and to `kharden fix`.

    python benchmarks/checks_overhead.py [--objects 1000,10000] [--corpus ../shared/corpus] [--repeat 5]

For each input (the benchmark's generated corpora, then the third-party corpus) it times, in CPU seconds, best of
N: `check --profile restricted` (read and check) and `fix --profile restricted --no-generate` (read, fix, render),
with the profile's checks on (the default) and off (`checks: {images: {enabled: false}, secrets: {enabled:
false}}`, and the API-version check left out: it has no switch of its own, so the benchmark replaces it with
nothing), the two in turn.
The overhead is (on - off) / off. Prints a markdown table (docs/images-and-secrets.md quotes it). Not a test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [REPO, HERE]

def _interleaved(files: list[str], repeat: int) -> dict[str, tuple[float, float]]:
    """{mode: (best CPU s with checks off, with checks on)}, the two timed in turn so that the machine's other
    load falls on both alike (it is shared: runs apart in time differ by more than the checks cost)."""
    import dataclasses
    import gc

    from kharden import pipeline, run
    from kharden.images.locking import readable_objects as checkable
    from kharden.pipeline import check_groups
    from kharden.profile import load_profile

    on = load_profile("restricted")
    off = dataclasses.replace(on, checks={k: dataclasses.replace(v, enabled=False) for k, v in on.checks.items()})

    def check(p: object) -> None:
        objects, _ = checkable(files, p.pod_templates)  # type: ignore[attr-defined]
        check_groups(objects, pss=None, profile=p)  # type: ignore[arg-type]

    def fix(p: object) -> None:
        run.fix(files, p, generate=False)  # type: ignore[arg-type]

    api_versions = pipeline.api_versions
    out = {}
    for mode, fn in (("check", check), ("fix", fix)):
        best = [float("inf"), float("inf")]
        for _ in range(repeat):
            for i, prof in enumerate((off, on)):
                gc.collect()
                pipeline.api_versions = api_versions if i else _no_findings  # type: ignore[assignment]
                t = time.process_time()
                fn(prof)
                best[i] = min(best[i], time.process_time() - t)
        pipeline.api_versions = api_versions  # type: ignore[assignment]
        out[mode] = (best[0], best[1])
    return out


def _no_findings(*args: object, **kwargs: object) -> list[object]:
    return []


def _inputs(sizes: list[int], corpus: str | None, tmp: str) -> list[tuple[str, list[str]]]:
    import corpus as gen  # benchmarks/corpus.py

    from kharden.images.locking import readable_objects as checkable

    out = []
    for n in sizes:
        out.append((f"generated {n}", gen.write_corpus(os.path.join(tmp, str(n)), n)))
    if corpus and os.path.isdir(corpus):
        from kharden.files.discover import discover

        files = [f for f in discover([corpus]).paths if not checkable([f], None)[1]]  # files fix refuses left out
        out.append(("shared corpus", files))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", default="1000,10000")
    parser.add_argument("--corpus", default=os.path.join(REPO, "..", "shared", "corpus"))
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("| input | mode | checks off (CPU s) | checks on (CPU s) | overhead |")
        print("|---|---|---|---|---|")
        for name, files in _inputs([int(x) for x in args.objects.split(",") if x], args.corpus, tmp):
            for mode, (base, on) in _interleaved(files, args.repeat).items():
                print(f"| {name} | {mode} --profile restricted | {base:.3f} | {on:.3f} | {(on - base) / base:+.1%} |",
                      flush=True)


if __name__ == "__main__":
    main()
