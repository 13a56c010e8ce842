"""Which real components the runtime tests need, and a skip message naming the missing ones."""

from __future__ import annotations

import os
import shutil

# Debian package -> the program the tests call from it.
NEEDED = {
    "runc": "runc",
    "mmdebstrap": "mmdebstrap",
    "docker-registry": "docker-registry",
    "skopeo": "skopeo",
    "iproute2": "ip",
    "util-linux": "nsenter",
}


def missing() -> list[str]:
    """The Debian packages (or root) these tests need and this machine lacks."""
    absent = [package for package, program in NEEDED.items() if shutil.which(program) is None]
    if os.geteuid() != 0:
        absent.append("root (runc, network namespaces and mmdebstrap's root mode need it)")
    return absent


def skip_reason() -> str | None:
    """A message for pytest.skip, or None when everything is here."""
    absent = missing()
    if not absent:
        return None
    return "runtime proof needs " + ", ".join(absent) + " (.ci/run installs them: apt-get install -y runc docker-registry skopeo mmdebstrap iproute2)"
