"""The edge of `kharden generate webhook` and `kharden generate admission-policies`: options in, YAML out, and
(with --self-signed) the key files written owner-only."""

from __future__ import annotations

import os
from typing import Any

from kharden.errors import UsageError


def webhook(profile: str, namespace: str, image: str, failure_policy: str, self_signed: str | None,
            cert_manager: bool) -> str:
    """The YAML stream of the webhook's objects; with `self_signed`, its certificates and Secret written there."""
    from kharden.admission import deploy
    from kharden.profile import builtin_names, load_profile
    from kharden.run import dump_each

    if bool(self_signed) == cert_manager:
        raise UsageError("generate webhook needs exactly one of --self-signed DIR and --cert-manager")
    load_profile(profile)  # a bad profile is reported before anything is written
    text = None
    if profile not in builtin_names():
        with open(profile, encoding="utf-8") as f:
            text = f.read()
    options = deploy.Options(namespace=namespace, image=image, profile=profile, profile_text=text,
                             failure_policy=failure_policy)
    if self_signed:
        options = _self_signed(options, self_signed)
    docs = dump_each(deploy.objects(options))
    return "".join(("---\n" if i else "") + d for i, d in enumerate(docs))


def _self_signed(options: Any, directory: str) -> Any:
    """`options` (deploy.Options) with the CA of a new self-signed pair, whose files are written to `directory`."""
    import dataclasses

    from kharden.admission import certs, deploy
    from kharden.run import dump

    pair = certs.self_signed(deploy.dns_names(options))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    certs.write_private(os.path.join(directory, "tls.key"), pair.key_pem)
    certs.write_private(os.path.join(directory, "tls.crt"), pair.cert_pem)
    certs.write_private(os.path.join(directory, "ca.crt"), pair.ca_pem)
    secret = dump(deploy.secret(options, pair.cert_pem, pair.key_pem))
    certs.write_private(os.path.join(directory, "secret.yaml"), secret.encode())
    return dataclasses.replace(options, ca_bundle=pair.ca_pem)


def policies(profile: str, kube_version: str, validation_actions: str) -> str:
    from kharden.admission import policies as native
    from kharden.profile import load_profile
    from kharden.run import dump_each

    actions = [a.strip() for a in validation_actions.split(",") if a.strip()]
    docs = dump_each(native.objects(load_profile(profile), kube_version, actions))
    return "".join(("---\n" if i else "") + d for i, d in enumerate(docs))
