"""The benchmark's inputs, written once per run under a work directory.

Three corpora, each as users hand it to kharden:
- `generated`: benchmarks/corpus.py's deterministic mix (Deployments, Services, ConfigMaps, CronJobs; a quarter
  already hardened), in files of 1 to 60 documents;
- `shared`: the third-party corpus (../shared/corpus), the files kharden fixes without error;
- `flow`: the generated mix with every `labels:` mapping written in flow style (`labels: {app: x}`), as many real
  manifests are.

For each: the files, the same objects as one stream (helm-post-render), as one file per object (`fix -o DIR`), as a
ResourceList (krm), and hardened (check on hardened input).
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

import yaml

import corpus

_LABELS = re.compile(r"^( *)labels:\n((?:\1  [^\n]+: [^\n]+\n)+)", re.M)


@dataclass
class Corpus:
    name: str
    files: list[str]  # the input as a repository holds it
    objects: int
    stream: str  # every document as one stream (stdin of helm-post-render)
    one_per_file: str  # a directory: one object per file
    resource_list: str  # a file: the objects as a KRM ResourceList
    hardened: str  # a directory: the files as `kharden fix` leaves them


def flow_labels(text: str) -> str:
    """Every block `labels:` mapping of a text written as one flow mapping on the key's line."""

    def flow(m: re.Match[str]) -> str:
        pairs = [line.strip() for line in m.group(2).splitlines()]
        return f"{m.group(1)}labels: {{{', '.join(pairs)}}}\n"

    return _LABELS.sub(flow, text)


def _documents_of(files: list[str]) -> list[str]:
    """Each document of the files that kharden reads alone as one object (a `---` split can cut odd files wrong)."""
    from kharden.errors import KhardenError
    from kharden.pipeline import validate
    from kharden.read import parse_text

    docs = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            for doc in re.split(r"(?m)^---[^\n]*\n", f.read()):
                doc = doc if doc.endswith("\n") else doc + "\n"
                try:
                    source = parse_text(doc)
                    validate([source])
                except KhardenError:
                    continue
                if len(list(source.objects())) == 1:
                    docs.append(doc)
    return docs


def _readable(root: str, limit: int) -> list[str]:
    """Up to `limit` objects' worth of corpus files that `kharden fix` hardens without error."""
    from kharden import run
    from kharden.errors import KhardenError
    from kharden.files.discover import discover
    from kharden.read.source import read_source

    out, objects = [], 0
    for path in discover([root]).paths:
        try:
            outcome = run.fix_sources([read_source(path)], "restricted", generate=False)
        except KhardenError:
            continue
        out.append(path)
        objects += len(outcome.result.objects)
        if objects >= limit:
            break
    return out


def build(name: str, work: str, objects: int, shared_root: str | None = None) -> Corpus | None:
    """Write one corpus and its derived inputs under `work/name`; None where the shared corpus is missing."""
    from kharden import run

    base = os.path.join(work, name)
    shutil.rmtree(base, ignore_errors=True)
    files_dir = os.path.join(base, "files")
    if name == "shared":
        if not shared_root or not os.path.isdir(shared_root):
            return None
        os.makedirs(files_dir)
        files = []
        for i, src in enumerate(_readable(shared_root, objects)):
            files.append(os.path.join(files_dir, f"{i:04d}-{os.path.basename(src)}"))
            shutil.copyfile(src, files[-1])
    else:
        files = corpus.write_corpus(files_dir, objects)
        if name == "flow":
            for path in files:
                with open(path, encoding="utf-8") as f:
                    text = flow_labels(f.read())
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    docs = _documents_of(files)
    one = os.path.join(base, "one-per-file")
    os.makedirs(one)
    for i, doc in enumerate(docs):
        with open(os.path.join(one, f"o{i:05d}.yaml"), "w", encoding="utf-8") as f:
            f.write(doc)
    values = [d for d in yaml.load_all("---\n".join(docs), Loader=yaml.CSafeLoader) if isinstance(d, dict)]
    rl = os.path.join(base, "resource-list.yaml")
    with open(rl, "w", encoding="utf-8") as f:
        yaml.dump({"apiVersion": "config.kubernetes.io/v1", "kind": "ResourceList", "items": values}, f,
                  Dumper=yaml.CSafeDumper, sort_keys=False)
    hardened = os.path.join(base, "hardened")
    from kharden.tree.write import write_files

    write_files(run.fix(files, "restricted", generate=False).files(output_dir=hardened), durable=False, make_dirs=True)
    return Corpus(name, files, len(docs), "---\n".join(docs), one, rl, hardened)


def short_stream(objects: int) -> str:
    """`objects` short Deployments (about 350 bytes each, labels in flow style) as one stream: the memory row's input,
    where what kharden keeps per object weighs most against the text itself."""
    doc = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  labels: {{app: app-{n}}}\nspec:\n"
           "  selector:\n    matchLabels: {{app: app-{n}}}\n  template:\n    metadata:\n      labels: {{app: app-{n}}}\n"
           "    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n        ports:\n"
           "        - containerPort: 8080\n")
    return "---\n".join(doc.format(n=n) for n in range(objects))


def helm_render(megabytes: float, seed: int = corpus.SEED) -> str:
    """A Helm render of about `megabytes` MB, as `helm template` writes it: each document after a `# Source:` comment,
    benchmarks/corpus.py's objects (1-5 KB each), and one ConfigMap in twenty carrying a big data block (a dashboard
    or a rules file: 20-60 KB), as monitoring charts do. Deterministic for a seed."""
    import random

    rnd = random.Random(seed + 2)
    target = int(megabytes * 1_000_000)
    parts: list[str] = []
    size = n = 0
    while size < target:
        batch = corpus.documents(200, seed + n)
        for k, doc in enumerate(batch):
            if k % 20 == 19:
                lines = "".join(f"    rule_{i}: expr(rate(http_requests_total[{rnd.randint(1, 60)}m])) > {i}\n"
                                for i in range(rnd.randint(300, 900)))
                doc = (f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rules-{n + k}\n  namespace: shop\n"
                       f"data:\n  rules.yaml: |\n{lines}")
            part = f"---\n# Source: shop/templates/{doc.split(chr(10), 2)[1][6:].lower()}-{n + k}.yaml\n{doc}"
            parts.append(part)
            size += len(part)
            if size >= target:
                break
        n += len(batch)
    return "".join(parts)
