"""kharden's layers hold: edges -> pipeline -> stages -> model/errors (the import-linter contract in pyproject.toml),
and no module imports itself through others (function-local imports count: grimp reads every import statement)."""

from __future__ import annotations

import graphlib
from pathlib import Path

import pytest

from tests.test_quality import need

ROOT = Path(__file__).parents[1]


def test_the_layers_contract_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    need("import-linter", "importlinter")  # skipped without it, but never under CI
    from importlinter import cli

    monkeypatch.chdir(ROOT)
    assert cli.lint_imports(no_cache=True) == 0  # the report above names any import that breaks a layer


def test_no_import_cycles() -> None:
    need("grimp", "grimp")  # comes with import-linter
    import grimp

    graph = grimp.build_graph("kharden", cache_dir=None)
    imports = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    try:
        list(graphlib.TopologicalSorter(imports).static_order())
    except graphlib.CycleError as e:
        pytest.fail(f"import cycle: {' -> '.join(e.args[1])}")


def test_a_cycle_would_be_found() -> None:
    """The cycle search itself can fail: the graph of the removed run <-> parallel pair is refused."""
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter({"run": {"parallel"}, "parallel": {"run"}}).static_order())
