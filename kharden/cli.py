"""The command line: read, call the pure core, render. The one place that prints and picks exit codes.

Exit codes: 0 nothing to report / nothing changed; 1 violations found (check) or changes needed (fix --check);
2 bad input, bad profile or bad usage; 3 an internal error (a bug: please report it).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

import click

from kharden import __version__, gcpause
from kharden.errors import KhardenError, UsageError

EXIT_ERROR = 2
EXIT_INTERNAL = 3


def _profile_option(default: str | None = "restricted") -> Callable[[Any], Any]:
    return click.option(
        "--profile", "-p", default=default, show_default=True, help="Built-in profile name or path to a profile file."
    )


def _kube_version_option() -> Callable[[Any], Any]:
    return click.option(
        "--kube-version", metavar="1.NN", default=None,
        help="Target Kubernetes release for deprecated API versions (default: the newest kharden knows, 1.36).",
    )


def _tree_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--exclude and --verbose: which files of a tree are read, and the skipped ones listed (kharden.tree)."""
    f = click.option("--verbose", "-v", is_flag=True, help="List the files skipped (not manifests, templates).")(f)
    return click.option("--exclude", multiple=True, metavar="GLOB",
                        help="Leave out files or directories matching GLOB (repeatable); .gitignored ones always.")(f)


def _jobs_option() -> Callable[[Any], Any]:
    # Accepted so that existing scripts keep working, and ignored: parallel runs did not pay (docs/performance.md).
    return click.option("--jobs", "-j", type=click.IntRange(min=0), default=1, hidden=True,
                        help="Ignored (kept for compatibility): kharden runs in one process.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kharden")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Harden Kubernetes manifests: fix what the Pod Security Standards and hardening guides ask for,
    keeping every byte kharden does not mean to change."""
    if ctx.invoked_subcommand != "serve":  # a server collects as usual; a command holds full collections back
        ctx.with_resource(gcpause.for_run())


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@_profile_option()
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
@_kube_version_option()
@_jobs_option()
@_tree_options
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
    outcome, screened = runs.fix_tree(plan, prof, generate=generate, audit_log=audit_log, image_options=images)
    click.echo(screen.summary(screened, verbose), err=True, nl=False)
    if not quiet and (screened.sources or not screened.errors):  # nothing read: the error alone says it
        click.echo(outcome.summary, err=True, nl=False)
    if report_file:
        _write_report(outcome, report_file)
    if check_only:
        if show_diff:
            click.echo(outcome.diff(), nl=False)
        _exit_if_broken(screened)
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
        sys.stdout.write(outcome.stream())
    _exit_if_broken(screened)
    if fail_on_change and outcome.changed:
        sys.exit(1)


def _exit_if_broken(screened: Any) -> None:
    """Every file that could not be read, located; exit 2 once the others were processed (as black does)."""
    for e in screened.errors:
        click.echo(f"kharden: error: {e}", err=True)
    if screened.errors and screened.sources:
        click.echo(f"kharden: {len(screened.errors)} file(s) could not be processed; the others were", err=True)
    if screened.errors:
        sys.exit(EXIT_ERROR)


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


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--pss", type=click.Choice(["baseline", "restricted"]), help="Check exactly the PSS controls of a level.")
@click.option("--pss-version", default="latest", show_default=True, help="PSS policy version, e.g. 1.25.")
@click.option("--rbac", is_flag=True, help="Also check RBAC (wildcards, escalation, secrets); always with --profile.")
@_profile_option(default=None)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "markdown", "github"]), default="text",
              show_default=True, help="sarif: for GitHub code scanning; markdown: for a PR comment or job summary; "
              "github: annotations (workflow commands) at the offending lines.")
@_kube_version_option()
@_jobs_option()
@_tree_options
def check(paths: tuple[str, ...], pss: str | None, pss_version: str, rbac: bool, profile: str | None, fmt: str,
          kube_version: str | None, jobs: int, exclude: tuple[str, ...], verbose: bool) -> None:
    """Report violations with file and line. Exit 0 clean, 1 violations, 2 error."""
    from kharden.profile import load_profile
    from kharden.tree import discover, runs, screen

    if not pss and not profile:
        pss = "restricted"
    prof = load_profile(profile).with_kube_version(kube_version) if profile else None
    findings, errors, screened = runs.check_tree(discover.discover(list(paths), exclude), pss=pss,
                                                 version=pss_version, profile=prof, rbac=rbac, jobs=jobs,
                                                 kube_version=None if prof else kube_version)
    click.echo(screen.summary(screened, verbose), err=True, nl=False)
    from kharden.render import report

    if fmt == "github":
        from kharden.render import github

        click.echo(github.workflow_commands(findings, errors, files=len(screened.sources)), nl=False)
    elif fmt in ("sarif", "markdown"):
        from kharden.render import markdown, sarif

        out = json.dumps(sarif.sarif(findings, errors), indent=2) + "\n" if fmt == "sarif" else (
            markdown.check_report(findings, errors, None if profile else _unfixed(paths, exclude, pss)))
        click.echo(out, nl=False)
    else:
        click.echo(report.findings_json(findings) if fmt == "json" else report.findings_text(findings), nl=False)
    for e in errors:
        click.echo(f"kharden: error: {e}", err=True)
    click.echo(report.check_summary(findings, len(screened.sources), len(errors)), err=True)
    if errors:
        sys.exit(EXIT_ERROR)
    sys.exit(1 if report.fails(findings) else 0)  # a violation or a would-fix; notes never fail (docs/ci.md)


def _unfixed(paths: tuple[str, ...], exclude: tuple[str, ...], profile: str | None) -> list[Any] | None:
    """What `kharden fix --profile` would leave unfixed on these paths (broken files left out, as fix leaves
    them); None when it cannot tell (stdin, read once already)."""
    from kharden import run
    from kharden.tree import discover, runs

    if "-" in paths:
        return None
    outcome, _ = runs.fix_tree(discover.discover(list(paths), exclude), run.resolve_profile(profile or "restricted"))
    return [f for f in outcome.result.findings if f.status == "unfixed"]


@cli.command()
@click.argument("name", required=False)
def profiles(name: str | None) -> None:
    """List the built-in profiles, or show one fully resolved."""
    import yaml

    from kharden.profile import builtin_names, load_profile

    if name is None:
        for n in builtin_names():
            click.echo(f"{n:12} {load_profile(n).description}")
        return
    click.echo(yaml.safe_dump(load_profile(name).as_dict(), sort_keys=False), nl=False)


@cli.command()
@click.argument("what", type=click.Choice(["networkpolicies", "rbac", "all", "webhook", "admission-policies",
                                           "audit-policy", "encryption-config"]))
@click.argument("paths", nargs=-1)
@_profile_option()
@click.option("--audit-log", type=click.Path(exists=True, dir_okay=False), help="Kubernetes audit log (JSON lines).")
@click.option("--namespace", default="kharden", show_default=True, help="webhook: the namespace it runs in.")
@click.option("--image", default=f"kharden:{__version__}", show_default=True, help="webhook: the server's image.")
@click.option("--failure-policy", type=click.Choice(["Fail", "Ignore"]), default="Fail", show_default=True,
              help="webhook: what the API server does when kharden cannot answer.")
@click.option("--self-signed", "self_signed", type=click.Path(file_okay=False),
              help="webhook: make a CA and certificate; keys and the TLS Secret go to this directory (0600).")
@click.option("--cert-manager", is_flag=True, help="webhook: certificates from cert-manager (inject-ca-from).")
@click.option("--kube-version", default="1.36", show_default=True,
              help="admission-policies: cluster version (MutatingAdmissionPolicy v1 from 1.36, v1beta1 1.34-1.35).")
@click.option("--validation-actions", default="Deny", show_default=True,
              help="admission-policies: the binding's validationActions, comma-separated (Deny, Warn, Audit).")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False),
              help="audit-policy: write it here; encryption-config: the file to create (mode 0600; never replaced).")
@click.option("--provider", type=click.Choice(["secretbox", "aescbc"]), default="secretbox", show_default=True,
              help="encryption-config: secretbox, or aescbc where FIPS-approved algorithms are required.")
@click.option("--resource", "resources", multiple=True, help="encryption-config: resources to encrypt "
              "(repeatable; default secrets).")
def generate(what: str, paths: tuple[str, ...], profile: str, audit_log: str | None, namespace: str, image: str,
             failure_policy: str, self_signed: str | None, cert_manager: bool, kube_version: str,
             validation_actions: str, output: str | None, provider: str, resources: tuple[str, ...]) -> None:
    """Print only the generated objects (NetworkPolicies, ServiceAccounts, Roles; or, without PATHS, the
    admission webhook's deployment or the profile as native admission policies; or an audit Policy; or write an
    EncryptionConfiguration with a fresh key to a 0600 file, the key never printed)."""
    from kharden import run
    from kharden.render import report
    from kharden.tree import discover, runs, screen

    if what in ("audit-policy", "encryption-config"):
        _generate_cluster_file(what, output, provider, resources or ("secrets",))
        return
    if what in ("webhook", "admission-policies"):
        from kharden.admission import generate as admission_generate

        sys.stdout.write(admission_generate.webhook(profile, namespace, image, failure_policy, self_signed,
                                                    cert_manager) if what == "webhook" else
                         admission_generate.policies(profile, kube_version, validation_actions))
        return
    if not paths:
        raise UsageError(f"generate {what} needs the manifests to generate from (PATHS)")

    only = {"networkpolicies": "networkPolicies", "rbac": "rbac"}.get(what)
    # One generator: the profile with only that one enabled (generate=True would switch every generator on).
    outcome, screened = runs.fix_tree(discover.discover(list(paths)), run.resolve_profile(profile),
                                      generate=None if only else True, audit_log=audit_log, only_generator=only)
    click.echo(screen.summary(screened, False), err=True, nl=False)
    click.echo(report.generate_summary(outcome.result.generated, outcome.result.findings), err=True, nl=False)
    sys.stdout.write(outcome.generated_stream())
    _exit_if_broken(screened)


@cli.group()
def images() -> None:
    """Image references: resolve them to digests for `kharden fix --pin-images`."""


@images.command("lock")
@click.argument("paths", nargs=-1, required=True)
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False), help="Write the lock here (default: stdout).")
@_profile_option()
@click.option("--platform", default="linux/amd64", show_default=True, help="Platform whose image is checked to exist.")
@click.option("--platform-digest", is_flag=True, help="Pin the platform's manifest, not the multi-arch index.")
@click.option("--insecure-registry", multiple=True, help="Plain http to this registry host (loopback always may).")
def images_lock(paths: tuple[str, ...], output: str | None, profile: str, platform: str, platform_digest: bool,
                insecure_registry: tuple[str, ...]) -> None:
    """Resolve every image reference of PATHS through its registry and write the lock (network: only here)."""
    from kharden import run
    from kharden.images.lock import dump_lock
    from kharden.images.locking import readable_objects, references, resolve
    from kharden.images.registry import Client

    prof = run.resolve_profile(profile)
    objects, errors = readable_objects(list(paths), prof.pod_templates)
    for e in errors:
        click.echo(f"kharden: error: {e}", err=True)
    client = Client(platform=platform, insecure=insecure_registry)
    pins, failed = resolve(references(objects, prof.pod_templates), client, platform_digest)
    for image, e in failed.items():
        click.echo(f"kharden: error: {image}: not resolved: {e}", err=True)
    text = dump_lock(pins)
    if output:
        from kharden.tree.write import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)
    click.echo(f"kharden: {len(pins)} image(s) locked, {len(failed)} not resolved", err=True)
    sys.exit(EXIT_ERROR if errors else 1 if failed else 0)


def _answer_format() -> Callable[[Any], Any]:
    return click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
                        show_default=True)


@cli.command("who-can")
@click.argument("verb")
@click.argument("resource", metavar="RESOURCE[.GROUP][/SUBRESOURCE]|/URL")
@click.argument("paths", nargs=-1, required=True)
@click.option("--namespace", "-n", default="", help="The request's namespace (default: cluster-wide).")
@click.option("--all-namespaces", "-A", is_flag=True, help="Also RoleBindings of every namespace, each for its own.")
@click.option("--name", default="", help="The object's name (rules with resourceNames).")
@_answer_format()
def who_can(verb: str, resource: str, paths: tuple[str, ...], namespace: str, all_namespaces: bool, name: str,
            fmt: str) -> None:
    """Every subject the manifests allow a request, with the binding and rule that grant it (offline)."""
    from kharden.progress import read_sources
    from kharden.rbac import query, report

    req, grants, unresolved = query.ask_who(read_sources(list(paths)), verb, resource, namespace, name,
                                            all_namespaces)
    render = {"text": report.who_can_text, "json": report.who_can_json, "markdown": report.who_can_markdown}[fmt]
    click.echo(render(req, grants, unresolved), nl=False)


@cli.command("can-i")
@click.argument("verb")
@click.argument("resource", metavar="RESOURCE[.GROUP][/SUBRESOURCE]|/URL")
@click.argument("paths", nargs=-1, required=True)
@click.option("--as", "as_user", required=True, help="User, or system:serviceaccount:NS:NAME.")
@click.option("--as-group", "groups", multiple=True, help="A group the user is in (repeatable).")
@click.option("--namespace", "-n", default="", help="The request's namespace (default: cluster-wide).")
@click.option("--name", default="", help="The object's name (rules with resourceNames).")
@_answer_format()
def can_i(verb: str, resource: str, paths: tuple[str, ...], as_user: str, groups: tuple[str, ...], namespace: str,
          name: str, fmt: str) -> None:
    """yes (exit 0) or no (exit 1): may SUBJECT do this, by the manifests' RBAC (offline)."""
    from kharden.progress import read_sources
    from kharden.rbac import query, report

    user, req, grants = query.ask_can(read_sources(list(paths)), verb, resource, namespace, name, as_user, groups)
    render = {"text": report.can_i_text, "json": report.can_i_json, "markdown": report.can_i_markdown}[fmt]
    click.echo(render(user, req, grants), nl=False)
    sys.exit(0 if grants else 1)


def _generate_cluster_file(what: str, output: str | None, provider: str, resources: tuple[str, ...]) -> None:
    """The audit policy goes to stdout (or -o); the encryption config only to a new 0600 file, never to stdout."""
    if what == "audit-policy":
        from kharden.generators.auditpolicy import audit_policy

        if output:
            from kharden.tree.write import write_atomic

            write_atomic(output, audit_policy())
        else:
            sys.stdout.write(audit_policy())
        return
    from kharden.generators import encryptionconfig

    if not output:
        raise UsageError("generate encryption-config needs --output FILE: the key is never printed")
    text = encryptionconfig.encryption_config(encryptionconfig.new_key(), provider, resources)
    encryptionconfig.write_secret_file(output, text)
    click.echo(f"kharden: wrote {output} (mode 0600, a new {provider} key); install it on the control-plane nodes "
               f"and pass --encryption-provider-config={output}", err=True)


@cli.command("kustomize-plugin")
@click.argument("arg", required=False, metavar="[CONFIG|DIR]")
@click.option("--install", is_flag=True, help="Install the exec plugin under DIR (default: where kustomize looks).")
def kustomize_plugin(arg: str | None, install: bool) -> None:
    """kustomize exec plugin: CONFIG (a kind: Hardening file) as argument, resources on stdin -> stdout."""
    from kharden.integrations import kustomize

    if install:
        click.echo(kustomize.install(arg))
        return
    if not arg:
        raise UsageError("kustomize-plugin needs the plugin config file (kustomize passes it), or --install [DIR]")
    config = kustomize.read_config(arg)
    out, summary = kustomize.transform(sys.stdin.read(), config)
    if config.summary:
        click.echo(summary, err=True, nl=False)
    sys.stdout.write(out)


@cli.command()
def krm() -> None:
    """KRM function: ResourceList on stdin -> hardened ResourceList with results on stdout (kpt, kustomize)."""
    from kharden.integrations import krm as krm_fn

    out, failed = krm_fn.process(sys.stdin.read())
    sys.stdout.write(out)
    sys.exit(1 if failed else 0)


@cli.command("helm-post-render")
@_profile_option()
@click.option("--generate/--no-generate", default=None, help="Generate NetworkPolicies/RBAC (default: profile).")
@click.option("--summary", is_flag=True, help="Write kharden's summary to stderr.")
def helm_post_render(profile: str, generate: bool | None, summary: bool) -> None:
    """Helm post-renderer: rendered manifests on stdin -> hardened manifests on stdout (nothing on failure)."""
    from kharden import run
    from kharden.integrations import helm
    from kharden.render import report

    out, result = helm.post_render(sys.stdin.read(), run.resolve_profile(profile), generate)
    if summary:
        click.echo(report.fix_summary(result.changes, result.findings, len(result.generated)), err=True, nl=False)
    sys.stdout.write(out)


@cli.command()
@_profile_option()
@click.option("--tls-cert", required=True, type=click.Path(exists=True, dir_okay=False), help="PEM certificate (chain).")
@click.option("--tls-key", required=True, type=click.Path(exists=True, dir_okay=False), help="PEM private key.")
@click.option("--listen", default="0.0.0.0:8443", show_default=True, help="HOST:PORT to serve HTTPS on.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option("--max-body", type=click.IntRange(min=1024), default=6 << 20, show_default=True,
              help="Largest request body in bytes (413 beyond).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True,
              help="Seconds a request's head and body may take to arrive.")
@click.option("--drain", type=click.IntRange(min=0), default=20, show_default=True,
              help="On SIGTERM: seconds to finish requests in flight.")
@click.option("--log-level", type=click.Choice(["info", "warning", "error"]), default="info", show_default=True,
              help="info: a JSON line per admission; warning: only what went wrong.")
def serve(profile: str, tls_cert: str, tls_key: str, listen: str, workers: int, max_body: int, timeout: float,
          drain: int, log_level: str) -> None:
    """Admission webhook (AdmissionReview v1 over HTTPS): /mutate, /validate, /healthz, /readyz, /metrics."""
    from kharden import run
    from kharden.admission import listen as listen_address

    run.resolve_profile(profile)  # a bad profile is reported before the server starts
    try:
        from kharden.admission.server import serve as serve_https
    except ImportError as e:
        raise UsageError(f"kharden serve needs the serve extra: pip install 'kharden[serve]' ({e})") from None
    host, port = listen_address(listen)
    serve_https(profile, tls_cert, tls_key, host, port, workers=workers, max_body=max_body, timeout=timeout,
                drain=drain, log_level=log_level)


def main() -> None:
    """Entry point: the one place KhardenErrors become messages and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        sys.exit(130)
    except KhardenError as e:
        click.echo(f"kharden: error: {e}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as e:  # a bug in kharden: say so plainly; the traceback only on request
        if os.environ.get("KHARDEN_DEBUG"):
            raise
        click.echo(f"kharden: internal error: {type(e).__name__}: {e} (set KHARDEN_DEBUG=1 for details)", err=True)
        sys.exit(EXIT_INTERNAL)
