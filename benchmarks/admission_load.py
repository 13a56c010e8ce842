"""kharden serve under load, on loopback: 1, 10 and 100 concurrent keep-alive clients, bounded.

    python benchmarks/admission_load.py [--clients 1,10,100] [--requests 2000] [--workers 2] [--profile restricted]
                                        [--corpus ../shared/corpus] [--kill] [--cache N] [--serve-args '...']

Starts `kharden serve` over TLS (a fresh self-signed certificate), builds AdmissionReviews from the corpus's Pods
and Deployments, and for each client count runs a closed loop: every client holds one keep-alive HTTPS connection
and sends its next request when the last answer arrived, until `--requests` answers in all (and at most 120 s).
The clients are one asyncio process (so they cost the two cores as little as a load generator can). Reports
throughput, p50/p90/p99/max latency as the client saw it, errors, the server's CPU time per answer (user + system
of its worker processes: the figure other load on a shared machine disturbs least), the load generator's own CPU
time per answer (it shares the cores), and each server process's
resident memory (VmRSS now, VmHWM peak) from /proc. `--kill` also kills one of the worker processes halfway through the 10-client
run and counts the requests that had to be retried (on a new connection, as the API server does) and any lost.
A benchmark, not a test: nothing asserts. docs/admission.md has the figures and how they compare.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from tests.admission_helpers import admission_review, as_json, start  # noqa: E402


def bodies(corpus: Path, limit: int = 400) -> list[bytes]:
    import yaml

    out = []
    for path in sorted(corpus.rglob("*.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8-sig")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") in ("Pod", "Deployment") and isinstance(doc.get("spec"), dict):
                doc = as_json(doc)
                doc.setdefault("metadata", {})["namespace"] = "bench"
                body = json.dumps(admission_review(doc, uid=f"b{len(out)}")).encode()
                # the whole request, encoded once: the load generator spends its share of the cores on TLS only
                out.append(b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    return out[:limit]


async def client(port: int, ctx: ssl.SSLContext, work: list[bytes], latencies: list[float], stats: dict[str, int],
                 deadline: float) -> None:
    reader = writer = None
    for body in work:
        for _attempt in range(5):
            if time.monotonic() > deadline:
                return
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                                                   server_hostname="localhost")
                start = time.perf_counter()
                writer.write(body)
                head = await reader.readuntil(b"\r\n\r\n")  # type: ignore[union-attr]
                length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                                  if line.lower().startswith(b"content-length")))
                answer = await reader.readexactly(length)  # type: ignore[union-attr]
                latencies.append(time.perf_counter() - start)
                ok = head.startswith(b"HTTP/1.1 200") and b'"allowed": true' in answer
                stats["ok" if ok else "bad"] += 1
                break
            except (OSError, asyncio.IncompleteReadError, ssl.SSLError, StopIteration):
                stats["retried"] += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        else:
            stats["lost"] += 1
    if writer is not None:
        writer.close()


async def run(port: int, ca: Path, clients: int, total: int, work: list[bytes],
              kill: int | None = None) -> dict[str, Any]:
    ctx = ssl.create_default_context(cafile=str(ca))
    latencies: list[float] = []
    stats = {"ok": 0, "bad": 0, "retried": 0, "lost": 0}
    per = [[work[(c * 7919 + i) % len(work)] for i in range(total // clients)] for c in range(clients)]
    deadline = time.monotonic() + 120
    start = time.perf_counter()
    tasks = [asyncio.create_task(client(port, ctx, w, latencies, stats, deadline)) for w in per]
    if kill:
        while len(latencies) < total // 2:
            await asyncio.sleep(0.01)
        os.kill(kill, signal.SIGKILL)
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - start
    lat = sorted(latencies)
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
    return {"clients": clients, "requests": len(lat), "seconds": round(wall, 2),
            "throughput": round(len(lat) / wall, 1), "p50_ms": round(q[49] * 1000, 1),
            "p90_ms": round(q[89] * 1000, 1), "p99_ms": round(q[98] * 1000, 1), "max_ms": round(lat[-1] * 1000, 1),
            "mean_ms": round(statistics.fmean(lat) * 1000, 1), **stats}


def workers(parent: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
                cmd = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if ppid == parent and b"resource_tracker" not in cmd:
                out.append(int(entry))
    return out or [parent]


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            name, value = line.split(":")
            fields[name] = int(value.split()[0]) // 1024
    return fields


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", default="1,10,100")
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--profile", default="restricted")
    p.add_argument("--corpus", default=str(HERE.parent.parent / "shared" / "corpus"))
    p.add_argument("--kill", action="store_true")
    p.add_argument("--serve-args", default="", help="more options for kharden serve, e.g. '--log-level warning'")
    p.add_argument("--cache", type=int, default=0,
                   help="admission.cache (0: off). The requests repeat, so a cache flatters: the headline is without")
    args = p.parse_args()
    work = bodies(Path(args.corpus))
    with tempfile.TemporaryDirectory() as d:
        profile = Path(d) / "profile.yaml"
        profile.write_text(f"extends: {args.profile}\nadmission: {{cache: {args.cache}, generatorWarnings: false}}\n")
        server = start(Path(d), str(profile), "--workers", str(args.workers), *args.serve_args.split())
        try:
            print(f"{len(work)} AdmissionReviews from the corpus's Pods and Deployments; profile {args.profile}, "
                  f"admission.cache {args.cache}; "
                  f"{args.workers} worker process(es) {args.serve_args}; {os.cpu_count()} CPUs; "
                  f"load average {os.getloadavg()[0]:.1f}")
            asyncio.run(run(server.port, server.ca, 4, 200, work))  # warm-up: imports, caches
            for n in [int(c) for c in args.clients.split(",")]:
                pids = workers(server.proc.pid)
                before, mine = cpu_seconds(pids), time.process_time()
                result = asyncio.run(run(server.port, server.ca, n, args.requests, work))
                result["client_cpu_ms_per_request"] = round((time.process_time() - mine) / result["requests"] * 1000, 2)
                # server CPU per answer: what the machine's other load disturbs least
                result["server_cpu_ms_per_request"] = round((cpu_seconds(pids) - before) / result["requests"] * 1000, 2)
                result["memory_mb"] = {pid: memory(pid) for pid in workers(server.proc.pid)}
                result["load_average"] = round(os.getloadavg()[0], 1)
                print(json.dumps(result))
            if args.kill:
                victim = workers(server.proc.pid)[0]
                result = asyncio.run(run(server.port, server.ca, 10, args.requests, work, kill=victim))
                print(json.dumps({"killed_worker": victim, **result}))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
