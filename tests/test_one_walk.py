"""One directory walk for every command (kharden.files.discover): the library calls and `kharden who-can` leave out
.gitignored files and Helm charts as `fix` does. (`images lock`: tests/test_images.py, with a real registry.)"""

from __future__ import annotations

import re
from pathlib import Path

from kharden import run
from kharden.progress import read_sources
from tests.integration_helpers import kharden

PACKAGE = Path(__file__).parents[1] / "kharden"
POD = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n  - {name: a, image: nginx:1.27}\n"


def _tree(root: Path) -> Path:
    """A manifest, a .gitignored broken file and a chart whose template is no manifest: only the first is read."""
    (root / "out").mkdir()
    (root / "app.yaml").write_text(POD)
    (root / "out" / "broken.yaml").write_text("kind: [unclosed\n")
    (root / ".gitignore").write_text("out/\n")
    (root / "chart" / "templates").mkdir(parents=True)
    (root / "chart" / "Chart.yaml").write_text("apiVersion: v2\nname: c\nversion: 1.0.0\n")
    (root / "chart" / "templates" / "pod.yaml").write_text("{{ include \"x\" . }}\n")
    return root


def test_only_discover_walks_directories() -> None:
    walkers = sorted(str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                     if re.search(r"\bos\.walk\(", p.read_text(encoding="utf-8")))
    assert walkers == ["files/discover.py"]


def test_library_calls_walk_as_fix_does(tmp_path: Path) -> None:
    tree = str(_tree(tmp_path))
    assert [s.path for s in read_sources([tree])] == [str(tmp_path / "app.yaml")]
    findings, errors = run.check([tree], pss="restricted")
    assert not errors and findings and {f.obj.file for f in findings if f.obj} == {str(tmp_path / "app.yaml")}
    assert run.fix([tree], "restricted", generate=False).result.sources[0].path == str(tmp_path / "app.yaml")


def test_who_can_reads_the_walked_files(tmp_path: Path) -> None:
    proc = kharden("who-can", "get", "pods", str(_tree(tmp_path)))
    assert proc.returncode == 0, proc.stderr
