"""kharden's quality bar (docs/design.md, "Quality bar"): mypy --strict finds nothing, every `# type: ignore[code]`
says why on its line, no module is over 300 lines, and no function is over cyclomatic complexity 15 unless its
docstring has a line `Complexity: <why>` (a flat dispatch, say). The import layers are tests/test_layers.py.

Complexity is counted as flake8's mccabe counts it (ruff's C901): one per `if`/`elif`, loop, `except`, `case`,
`with`... statement, not per `and`/`or` or comprehension filter."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
from importlib import metadata
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "kharden"
MAX_LINES = 300
MAX_COMPLEXITY = 15  # also [tool.ruff.lint.mccabe] in pyproject.toml, so that `ruff check` shows the same
MARKER = re.compile(r"^\s*Complexity:\s*\S", re.MULTILINE)
IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
def need(distribution: str, module: str | None = None) -> None:
    """Skip, naming the missing test extra; under CI, which installs the extras (.ci/run), fail instead: the bar is
    never quietly left unchecked there."""
    try:
        metadata.version(distribution)
        present = module is None or importlib.util.find_spec(module) is not None
    except metadata.PackageNotFoundError:
        present = False
    if present:
        return
    message = f"{distribution} is in the test extras: pip install -e .[test]"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_mypy_strict_finds_nothing() -> None:
    """mypy --strict over the package (its cache under .mypy_cache: about 12 s cold, under a second warm)."""
    need("mypy", "mypy")
    need("types-PyYAML")  # PyYAML's types
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "kharden"], cwd=ROOT, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def ignores_without_reason(text: str) -> list[str]:
    """Each `# type: ignore` that names no error code, or has no `# reason` after it on its line."""
    bad = []
    for number, line in enumerate(text.splitlines(), 1):
        m = IGNORE.search(line)
        if m and (not m["codes"] or not re.match(r"\s*#\s*\S", m["rest"])):
            bad.append(f"{number}: {line.strip()}")
    return bad


def test_every_type_ignore_names_its_code_and_says_why() -> None:
    bad = [f"{path.relative_to(ROOT)}:{where}" for path in _modules()
           for where in ignores_without_reason(path.read_text(encoding="utf-8"))]
    assert not bad, "a `# type: ignore[code]  # reason` on one line:\n" + "\n".join(bad)


def test_a_bare_or_unexplained_ignore_is_found() -> None:
    text = ("a = f()  # type: ignore\n"
            "b = g()  # type: ignore[arg-type]\n"
            "c = h()  # type: ignore[arg-type]  # h is untyped upstream\n")
    assert [line.split(":")[0] for line in ignores_without_reason(text)] == ["1", "2"]


def test_no_module_is_over_300_lines() -> None:
    sizes = {path: len(path.read_text(encoding="utf-8").splitlines()) for path in _modules()}
    over = [f"{path.relative_to(ROOT)}: {n} lines" for path, n in sorted(sizes.items()) if n > MAX_LINES]
    assert not over, f"split these modules (at most {MAX_LINES} lines each):\n" + "\n".join(over)


# ruff's default rules up to 0.15 (pycodestyle's E4, E7, E9 and pyflakes' F: errors, not style a formatter would
# own) plus mccabe's C901. Named here, with --isolated, so the check is the same whatever ruff's version (0.16 made its
# default 413 rules) or the user's config selects; [tool.ruff.lint] in pyproject.toml selects the same, so that a plain `ruff check kharden` agrees.
RUFF_RULES = "E4,E7,E9,F,C901"


def ruff(paths: list[Path]) -> list[dict[str, Any]]:
    """ruff's findings (its JSON records) over `paths`, by RUFF_RULES with C901 at MAX_COMPLEXITY."""
    need("ruff", "ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--isolated", "--select", RUFF_RULES, "--config",
                           f"lint.mccabe.max-complexity={MAX_COMPLEXITY}", "--output-format", "json", "--exit-zero",
                           *map(str, paths)], capture_output=True, text=True, check=True)
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found


def complex_functions(paths: list[Path]) -> list[tuple[Path, int, str, int]]:
    """(file, line, function, complexity) of each function over MAX_COMPLEXITY, by ruff's mccabe rule (C901)."""
    found = []
    for d in ruff(paths):
        if d["code"] != "C901":
            continue
        m = re.fullmatch(r"`(?P<name>.+)` is too complex \((?P<n>\d+) > \d+\)", d["message"])
        assert m, d
        found.append((Path(d["filename"]), d["location"]["row"], m["name"], int(m["n"])))
    return found


def lint_errors(paths: list[Path]) -> list[str]:
    """ruff's findings other than complexity (which a `Complexity:` line may explain), one `file:line: CODE text`."""
    return [f"{d['filename']}:{d['location']['row']}: {d['code']} {d['message']}" for d in ruff(paths)
            if d["code"] != "C901"]


def test_ruff_finds_nothing() -> None:
    bad = lint_errors([PACKAGE])
    assert not bad, f"ruff check --select {RUFF_RULES} (`ruff check --fix` mends most):\n" + "\n".join(bad)


def test_ruff_finds_an_unused_import_and_an_empty_f_string(tmp_path: Path) -> None:
    """The lint check itself can fail."""
    source = tmp_path / "sloppy.py"
    source.write_text("from typing import Any\n\nNAME = f\"kharden\"\n", encoding="utf-8")
    assert [line.split(": ")[1].split()[0] for line in lint_errors([source])] == ["F401", "F541"]


def unexplained(found: list[tuple[Path, int, str, int]]) -> list[str]:
    """The complex functions whose docstring has no line starting `Complexity:` with the reason."""
    trees: dict[Path, ast.Module] = {}
    out = []
    for path, row, name, n in found:
        tree = trees.setdefault(path, ast.parse(path.read_text(encoding="utf-8")))
        [function] = [f for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                      and f.name == name and f.lineno <= row <= f.body[0].lineno]
        if not MARKER.search(ast.get_docstring(function) or ""):
            out.append(f"{path}:{row}: {name} (complexity {n})")
    return out


def test_no_function_is_over_complexity_15_without_its_reason() -> None:
    bad = unexplained(complex_functions([PACKAGE]))
    assert not bad, (f"over cyclomatic complexity {MAX_COMPLEXITY}: simplify, or say why in a docstring line "
                     "`Complexity: <reason>`:\n" + "\n".join(bad))


_BRANCHY = "def {name}(x):\n    {doc}\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(16))


def test_a_complex_function_needs_its_reason(tmp_path: Path) -> None:
    """The check itself can fail: 16 branches and a plain docstring are refused; the marker line lets them pass."""
    source = tmp_path / "branchy.py"
    source.write_text(_BRANCHY.format(name="plain", doc='"""Sixteen cases."""') + "\n\n"
                      + _BRANCHY.format(name="said", doc='"""Sixteen cases.\n\n    Complexity: a flat table of cases."""'))
    found = complex_functions([source])
    assert [(name, n) for _, _, name, n in found] == [("plain", 17), ("said", 17)]
    assert [line.split(": ")[1] for line in unexplained(found)] == ["plain (complexity 17)"]
