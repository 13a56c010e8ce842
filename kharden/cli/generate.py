"""`kharden generate`: only the generated objects, the admission webhook or policies, or a cluster file."""

from __future__ import annotations

import sys

import click

from kharden import __version__
from kharden.cli.options import exit_if_broken, profile_option
from kharden.errors import UsageError


@click.command()
@click.argument("what", type=click.Choice(["networkpolicies", "rbac", "all", "webhook", "admission-policies",
                                           "audit-policy", "encryption-config"]))
@click.argument("paths", nargs=-1)
@profile_option()
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
    exit_if_broken(screened)


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
