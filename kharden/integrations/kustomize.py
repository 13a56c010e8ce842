"""kustomize legacy exec plugin: `transformers: [harden.yaml]` with `kind: Hardening` hardens a kustomize build.

`kubectl kustomize --enable-alpha-plugins` runs legacy exec plugins (and silently skips exec KRM functions). It
looks for an executable at `$KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<lowercase kind>/<Kind>`, runs it with the
plugin's config file as argv[1] and the resources on stdin, and reads the transformed resources from stdout. It
annotates each resource with its id (`kustomize.config.k8s.io/id`) so it can match them back: kharden keeps every
annotation, and appends generated objects as new resources.

The installed executable is a two-line shell script that runs *this* Python with `-m kharden kustomize-plugin`.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys

from kharden.errors import KhardenError, UsageError
from kharden.integrations.hardening import API_VERSION, KIND, HardeningConfig, from_object

PLUGIN_RELPATH = os.path.join(*API_VERSION.split("/"), KIND.lower(), KIND)


def default_plugin_home(env: dict[str, str] | None = None) -> str:
    """Where kustomize looks: $KUSTOMIZE_PLUGIN_HOME, else $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/..."""
    env = dict(os.environ) if env is None else env
    if env.get("KUSTOMIZE_PLUGIN_HOME"):
        return env["KUSTOMIZE_PLUGIN_HOME"]
    config_home = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config_home, "kustomize", "plugin")


def install(plugin_home: str | None = None) -> str:
    """Write the plugin executable under `plugin_home`; returns its path."""
    target = os.path.join(plugin_home or default_plugin_home(), PLUGIN_RELPATH)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    script = "#!/bin/sh\n# kharden kustomize exec plugin (installed by `kharden kustomize-plugin --install`)\n"
    script += launcher("kustomize-plugin") + ' "$@"\n'

    with open(target, "w", encoding="utf-8") as f:
        f.write(script)
    os.chmod(target, os.stat(target).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def launcher(command: str) -> str:
    """A shell line that runs this very kharden (this Python, this package) whatever PATH and cwd are."""
    import kharden

    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(kharden.__file__)))
    return (
        f"PYTHONPATH={shlex.quote(package_parent)}${{PYTHONPATH:+:$PYTHONPATH}} "
        f"exec {shlex.quote(sys.executable)} -m kharden {command}"
    )


def read_config(config_path: str, env: dict[str, str] | None = None) -> HardeningConfig:
    """The plugin config kustomize passes as argv[1]; a relative profile path is relative to the kustomization."""
    import yaml

    env = dict(os.environ) if env is None else env
    try:
        with open(config_path, encoding="utf-8") as f:
            obj = yaml.safe_load(f)
    except OSError as e:
        raise UsageError(f"cannot read plugin config: {e.strerror}", file=config_path) from None
    except yaml.YAMLError as e:
        raise UsageError(f"plugin config is not valid YAML: {e}", file=config_path) from None
    root = env.get("KUSTOMIZE_PLUGIN_CONFIG_ROOT") or os.getcwd()
    return from_object(obj, where=config_path, base_dir=root)


def transform(text: str, config: HardeningConfig) -> tuple[str, str]:
    """Harden a resource stream as kustomize sends it. Returns (output stream, summary for stderr)."""
    from kharden import run
    from kharden.read import parse_text

    # not at the top: the CLI imports this module for `--install`, which needs no pipeline
    outcome = run.fix_sources([parse_text(text, "<kustomize>")], config.profile, generate=config.generate)
    unfixed = [f for f in outcome.result.findings if f.status == "unfixed"]
    if config.enforce and unfixed:
        raise EnforceError(outcome.summary)
    return outcome.stream(), outcome.summary


class EnforceError(KhardenError):
    """`enforce: true` and violations kharden could not fix: the build must fail."""

    exit_code = 1

    def __init__(self, summary: str) -> None:
        super().__init__("violations kharden could not fix (spec.enforce is true):\n" + summary.rstrip())
