"""`kharden fix`: harden manifests to stdout, in place (-i), to a directory (-o), as a diff or a JSON patch."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from kharden.cli.options import exit_if_broken, jobs_option, kube_version_option, profile_option, tree_options
from kharden.errors import UsageError


@click.command()
@click.argument("paths", nargs=-1, required=True)
@profile_option()
@click.option("--in-place", "-i", is_flag=True, help="Rewrite the files (atomically).")
@click.option("--output-dir", "-o", type=click.Path(file_okay=False), help="Write hardened copies here.")
@click.option("--diff", "show_diff", is_flag=True, help="Print a unified diff instead of the manifests.")
@click.option("--format", "fmt", type=click.Choice(["yaml", "jsonpatch", "kustomize"]), default="yaml",
              show_default=True, help="kustomize (with -o DIR): a kustomization of the originals plus patches.")
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if anything would change.")
@click.option("--generate/--no-generate", default=None, help="Generate NetworkPolicies/RBAC (default: profile).")
@click.option("--generated-file", type=click.Path(dir_okay=False), help="With -i/-o: where generated objects go.")
@click.option("--audit-log", type=click.Path(exists=True, dir_okay=False), help="Kubernetes audit log (JSON lines).")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
@click.option("--report", "report_file", type=click.Path(dir_okay=False), help="Also write a markdown report here.")
@click.option("--fail-on-change", is_flag=True, help="Exit 1 when files changed or were created (pre-commit).")
@kube_version_option()
@jobs_option()
@tree_options
@click.option("--pin-images", "pin_lock", type=click.Path(exists=True, dir_okay=False),
              help="Pin image references to the digests of this lock file (kharden images lock, or kbld's).")
@click.option("--move-secrets", is_flag=True, help="Move plaintext credentials into values-free Secrets.")
@click.option("--secrets-as-files", is_flag=True, help="Secrets in env vars become mounted files where the image "
              "reads <VAR>_FILE.")
@click.option("--image-config", type=click.Path(exists=True),
              help="Image configs (skopeo inspect --config, crane config, docker inspect): a file or a directory.")
@click.option("--resolve-images", is_flag=True, help="Read image configs from their registries (off: offline).")
@click.option("--platform", default="linux/amd64", show_default=True, help="With --resolve-images: OS/ARCH[/VARIANT].")
@click.option("--insecure-registry", multiple=True, metavar="HOST[:PORT]",
              help="With --resolve-images: a registry spoken to over plain http (loopback ones always are).")
def fix(paths: tuple[str, ...], profile: str, in_place: bool, output_dir: str | None, show_diff: bool, fmt: str,
        check_only: bool, generate: bool | None, generated_file: str | None, audit_log: str | None,
        quiet: bool, report_file: str | None, fail_on_change: bool, kube_version: str | None, jobs: int,
        exclude: tuple[str, ...], verbose: bool, pin_lock: str | None, move_secrets: bool,
        secrets_as_files: bool, image_config: str | None, resolve_images: bool, platform: str,
        insecure_registry: tuple[str, ...]) -> None:
    """Harden manifests (files, directories, or - for stdin); hardened YAML goes to stdout by default."""
    from kharden import run

    images = {"config_path": image_config, "resolve": resolve_images, "platform": platform,
              "insecure": insecure_registry} if image_config or resolve_images else None

    if in_place and output_dir:
        raise UsageError("--in-place and --output-dir do not go together")
    if in_place and "-" in paths:
        raise UsageError("--in-place needs files, not stdin")
    if fmt == "kustomize" and not output_dir:
        raise UsageError("--format kustomize needs --output-dir DIR for the kustomization")
    if fmt == "kustomize" and "-" in paths:
        raise UsageError("--format kustomize refers to the original files: it needs files, not stdin")
    from kharden.tree import runs, screen

    prof = run.resolve_profile(profile).with_kube_version(kube_version)  # bad ones reported before any file is read
    prof = _fix_options(prof, pin_lock, move_secrets, secrets_as_files, generate)
    plan = runs.plan(list(paths), exclude, in_place=in_place, output_dir=output_dir, generated_file=generated_file)
    texts_only = quiet and not (report_file or check_only or show_diff or in_place or output_dir) and fmt == "yaml"
    outcome, screened = runs.fix_tree(plan, prof, generate=generate, audit_log=audit_log, image_options=images,
                                      records=not texts_only)  # texts only: each document let go once spliced
    click.echo(screen.summary(screened, verbose), err=True, nl=False)
    if not quiet and (screened.sources or not screened.errors):  # nothing read: the error alone says it
        click.echo(outcome.summary, err=True, nl=False)
    if report_file:
        _write_report(outcome, report_file)
    if check_only:
        if show_diff:
            click.echo(outcome.diff(), nl=False)
        exit_if_broken(screened)
        sys.exit(1 if outcome.changed else 0)
    if show_diff:
        click.echo(outcome.diff(), nl=False)
    elif fmt == "kustomize":
        from kharden.integrations import overlay

        overlay.write(outcome, output_dir)  # type: ignore[arg-type]  # checked above
    elif fmt == "jsonpatch":
        click.echo(json.dumps(outcome.jsonpatch(), indent=2))
    elif in_place or output_dir:
        from kharden.tree.write import write_files

        texts = outcome.files(output_dir=output_dir, generated_file=plan.generated_file, targets=plan.targets)
        write_files(texts, durable=output_dir is None, make_dirs=output_dir is not None)  # -o: copies
    else:
        run.write_text(outcome.stream(), sys.stdout)
    exit_if_broken(screened)
    if fail_on_change and outcome.changed:
        sys.exit(1)


def _fix_options(prof: Any, pin_lock: str | None, move_secrets: bool, as_files: bool, generate: bool | None) -> Any:
    """The profile with the image lock and the secret moves asked for on the command line."""
    if (move_secrets or as_files) and generate is False:
        raise UsageError("--move-secrets and --secrets-as-files write through the generators: drop --no-generate")
    if pin_lock:
        from kharden.images.lock import read_lock
        from kharden.images.pin import with_lock

        with open(pin_lock, encoding="utf-8") as f:
            prof = with_lock(prof, read_lock(f.read(), pin_lock))
    if move_secrets or as_files:
        prof = prof.with_generator("secrets", move=move_secrets, as_files=as_files)
    return prof


def _write_report(outcome: Any, path: str) -> None:
    """The markdown report of a fix (what changed and why, what is left), e.g. for $GITHUB_STEP_SUMMARY."""
    from kharden.render import markdown
    from kharden.tree.write import write_atomic

    r = outcome.result
    write_atomic(path, markdown.fix_report(r.changes, r.findings, r.generated))
