"""Root filesystems built from real Debian packages with mmdebstrap, cached by the hash of their recipe.

A recipe names the suite, the packages and the users the image's Dockerfile creates with fixed IDs (the official
images pin them: redis and postgres 999, nginx 101, memcache 11211). System users go into /etc/passwd before the
packages install, so the packages' own `adduser --system` finds them; a user outside the system range (memcache) is
renumbered after installation. mmdebstrap fetches the .debs through apt from the mirror this machine's apt uses.

The result is a directory (the layer's content, for runc) and a tar of it (the layer, for the registry), kept under
``~/.cache/kharden-tests/rootfs/<hash>/`` so only the first run downloads and builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

CACHE = Path(os.environ.get("KHARDEN_TEST_CACHE", Path.home() / ".cache" / "kharden-tests"))

# Keep the layers small: no manuals, documentation (but its copyright files) or translations.
DPKG_OPTIONS = (
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/info/*",
)


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    home: str = "/nonexistent"
    shell: str = "/usr/sbin/nologin"


@dataclass(frozen=True)
class Recipe:
    name: str
    packages: tuple[str, ...]
    users: tuple[User, ...] = ()
    suite: str = "bookworm"
    variant: str = "minbase"
    customize: tuple[str, ...] = field(default=())  # mmdebstrap --customize-hook lines, run after installation
    exclude: tuple[str, ...] = field(default=())  # dpkg path-exclude globs: files this image never uses

    def key(self, sources: str) -> str:
        recipe = {k: v for k, v in asdict(self).items() if k != "exclude" or v}  # none: the key it had before
        text = json.dumps({"recipe": recipe, "sources": sources, "dpkg": DPKG_OPTIONS}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def host_debian_sources() -> str:
    """The Debian entries of this machine's apt sources (deb822 stanzas or one-line entries), as one text.

    Reusing them means the chroot reaches the same mirror the host's apt does, with no host name written here.
    """
    apt = Path("/etc/apt")
    files = [apt / "sources.list"] + sorted((apt / "sources.list.d").glob("*"))
    stanzas: list[str] = []
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text()
        if path.suffix == ".sources":
            stanzas += [s.strip() for s in re.split(r"\n\s*\n", text) if _is_debian(s)]
        elif path.suffix == ".list" or path.name == "sources.list":
            stanzas += [line.strip() for line in text.splitlines() if line.startswith("deb ") and _is_debian(line)]
    return "\n\n".join(stanzas) + "\n"


def _is_debian(entry: str) -> bool:
    lines = [line for line in entry.splitlines() if not line.lstrip().startswith("#")]
    body = "\n".join(lines)
    return bool(re.search(r"\bdeb\b|Types:\s*deb\b", body)) and "/debian" in body


def built(recipe: Recipe) -> tuple[Path, Path]:
    """The rootfs directory and its layer tar for `recipe`, built once and then taken from the cache."""
    sources = host_debian_sources()
    where = CACHE / "rootfs" / f"{recipe.name}-{recipe.key(sources)}"
    tree, layer = where / "tree", where / "layer.tar"
    if layer.is_file():
        return tree, layer
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    (where / "sources").write_text(sources)
    done = subprocess.run(_mmdebstrap(recipe, where / "sources", tree), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mmdebstrap could not build the {recipe.name} rootfs (is the Debian mirror in "
                           f"/etc/apt/sources.list* reachable?): {done.stderr[-2000:]}")
    partial = where / "layer.tar.partial"
    subprocess.run(["tar", "--numeric-owner", "--sort=name", "--xattrs", "-C", str(tree), "-cf", str(partial), "."],
                   check=True)
    partial.rename(layer)
    return tree, layer


def _mmdebstrap(recipe: Recipe, sources: Path, tree: Path) -> list[str]:
    command = ["mmdebstrap", "--mode=root", f"--variant={recipe.variant}", "--quiet",
               "--include=" + ",".join(recipe.packages)]
    command += [f"--dpkgopt={option}" for option in DPKG_OPTIONS]
    # No fsync per unpacked file: a rootfs that is rebuilt if lost needs none (mmdebstrap's eatmydata hook
    # README names this option). Not in the key: the files are the same.
    command.append("--dpkgopt=force-unsafe-io")
    command += [f"--dpkgopt=path-exclude={glob}" for glob in recipe.exclude]
    for user in recipe.users:
        if user.uid < 1000:
            command.append(f"--essential-hook={_add_user(user)}")
        else:
            command.append(f"--customize-hook={_renumber(user)}")
    command += [f"--customize-hook={hook}" for hook in recipe.customize]
    command.append("--customize-hook=rm -rf \"$1\"/var/lib/apt/lists/* \"$1\"/var/cache/apt/*.bin")
    return command + [recipe.suite, str(tree), str(sources)]


def _add_user(user: User) -> str:
    """A hook line adding a system user and its group with fixed IDs, as the Dockerfile's `useradd -r -u N` does."""
    passwd = f"{user.name}:x:{user.uid}:{user.uid}::{user.home}:{user.shell}"
    group = f"{user.name}:x:{user.uid}:"
    return f'echo "{passwd}" >> "$1/etc/passwd" && echo "{group}" >> "$1/etc/group"'


def _renumber(user: User) -> str:
    """A hook line giving an installed user (and its group) the fixed IDs the official image uses."""
    return (f'chroot "$1" groupmod -g {user.uid} {user.name} && '
            f'chroot "$1" usermod -u {user.uid} -g {user.uid} {user.name}')
