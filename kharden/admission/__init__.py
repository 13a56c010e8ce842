"""Admission on the cluster itself: `kharden serve` (an AdmissionReview webhook) and the objects that deploy it.

    adapter.py   the one call into kharden's pipeline: an object in, its patch and findings out
    review.py    pure: an AdmissionReview body in, the AdmissionReview response out (mutate and validate)
    asgi.py      the ASGI app (no dependencies): routes, body and time limits, probes, metrics, JSON logs
    metrics.py   Prometheus text exposition
    server.py    uvicorn: TLS from files reloaded on rotation, slow-client deadline, workers, graceful drain
    certs.py     a self-signed CA and serving certificate; deploy.py, generate.py: `kharden generate webhook`
    cel_pss.py, mutation_cel.py, apply_cel.py, policies.py: `kharden generate admission-policies`

The profile's `admission:` section is read by kharden.admission_settings (a profile key: below the pipeline).
"""

from __future__ import annotations

from kharden.errors import UsageError


def listen(value: str) -> tuple[str, int]:
    """HOST:PORT (`[::1]:8443` for IPv6) as (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen {value!r}: expected HOST:PORT, e.g. 0.0.0.0:8443")
    return host.strip("[]") or "0.0.0.0", int(port)
