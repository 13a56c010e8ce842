"""No output prints a found credential, in the kustomize overlay format too (issue 22): `fix --format kustomize
--output-dir DIR` writes a kustomization, RFC 6902 patches commented with their reasons and the generated objects
(a values-free Secret with --move-secrets); none of them, nor stdout or stderr, may hold a labelled value. The
other formats are held by tests/test_secrets.py::test_no_output_prints_a_found_value."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.secrets_recall import labelled, labelled_pieces as _values, manifest
from kharden.cli import cli


@pytest.mark.parametrize("extra", [[], ["--move-secrets"], ["--move-secrets", "--secrets-as-files"]],
                         ids=["as-is", "move-secrets", "as-files"])
def test_the_overlay_prints_no_found_value(extra: list[str], tmp_path: Path) -> None:
    truths, _ = labelled()
    src = tmp_path / "in" / "secrets.yaml"
    src.parent.mkdir()
    src.write_text(manifest(truths))
    out_dir = tmp_path / "overlay"
    result = CliRunner().invoke(cli, ["fix", "--profile", "restricted", "--format", "kustomize", "--output-dir",
                                      str(out_dir), *extra, str(src)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    written = {str(p.relative_to(out_dir)): p.read_text() for p in out_dir.rglob("*") if p.is_file()}
    assert "kustomization.yaml" in written and any(k.startswith("patches/") for k in written), sorted(written)
    if extra:  # the literals moved: the patches replace them, and a Secret without values is generated
        assert any("secretKeyRef" in t for t in written.values())
        assert "secret.supply-out-of-band" in result.stderr or "Secret" in "".join(written.values())
    texts = {"stdout": result.stdout, "stderr": result.stderr, **written}
    values = _values()
    assert len(values) >= 100
    for where, text in texts.items():
        leaked = [v for v in values if v in text]
        assert not leaked, f"{len(leaked)} value(s) printed in {where}, e.g. a {len(leaked[0])}-character one"
    # the input still holds them: the test would see a leak
    assert all(v in src.read_text() for v in values[:5])
