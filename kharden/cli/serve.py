"""`kharden serve`: the admission webhook over HTTPS (the serve extra)."""

from __future__ import annotations

import click

from kharden.cli.options import profile_option
from kharden.errors import UsageError


@click.command()
@profile_option()
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
