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
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from tests.admission_helpers import admission_review, as_json, start  # noqa: E402


def bodies(corpus: Path, limit: int = 400, cluster: int = 0, round_: int = 0) -> list[bytes]:
    """AdmissionReview bodies, encoded once: the corpus's Pods and Deployments as they are (`cluster` 0), or
    "as a cluster sends them" (`cluster` N): each Pod, and the Pod of each Deployment's template, N times, as the
    N pods of one ReplicaSet reach admission (each with its own generateName suffix, uid, ownerReferences and
    pod-template-hash label; kharden.admission.memo). `round_` makes every template new (an annotation), so each
    run starts with no answer remembered: in a cluster the first pod of a template is a miss in each process."""
    import yaml

    objects = []
    for path in sorted(corpus.rglob("*.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8-sig")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") in ("Pod", "Deployment") and isinstance(doc.get("spec"), dict):
                doc = as_json(doc)
                doc.setdefault("metadata", {})["namespace"] = "bench"
                objects.append(doc)
    objects = objects[:limit]
    if cluster:
        objects = [pod for i, o in enumerate(objects) for pod in _pods(o, i, cluster, round_)]
    return [json.dumps(admission_review(doc, uid=f"b{i}")).encode() for i, doc in enumerate(objects)]


def requests_of(bodies: list[bytes]) -> list[bytes]:
    """The whole HTTP requests: the load generator spends its share of the cores on TLS only."""
    return [b"POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body) for body in bodies]


def _pods(obj: dict[str, Any], i: int, n: int, round_: int) -> list[dict[str, Any]]:
    """The n pods a ReplicaSet of this workload would create (a Pod: n copies as if it were a template)."""
    template = obj["spec"].get("template") if obj.get("kind") == "Deployment" else obj
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return []
    meta = template.get("metadata") if isinstance(template.get("metadata"), dict) else {}
    base = str((obj.get("metadata") or {}).get("name") or f"w{i}")
    rs = f"{base}-{i:05x}f9c"
    out = []
    for k in range(n):
        labels = {**(meta.get("labels") or {}), "pod-template-hash": f"{i:05x}f9c"}
        annotations = {**(meta.get("annotations") or {}), "kharden.bench/round": str(round_)}
        pod_meta = {**{key: v for key, v in meta.items() if key != "name"}, "generateName": f"{rs}-",
                    "name": f"{rs}-{k:05x}",
                    "annotations": annotations,
                    "namespace": "bench", "labels": labels, "uid": f"{i:08x}-{k:04x}-4000-8000-000000000000",
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs,
                                         "uid": f"{i:08x}-0000-4000-8000-000000000000", "controller": True,
                                         "blockOwnerDeletion": True}]}
        out.append({"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template["spec"]})
    return out


async def connect(port: int, ctx: ssl.SSLContext) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="localhost")


async def client(port: int, ctx: ssl.SSLContext, work: list[bytes], latencies: list[float], stats: dict[str, int],
                 deadline: float, conn: Any = None) -> None:
    reader, writer = conn or (None, None)
    for body in work:
        for _attempt in range(5):
            if time.monotonic() > deadline:
                return
            try:
                if writer is None:
                    reader, writer = await connect(port, ctx)
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
    # every client's keep-alive connection is made first (the API server keeps its connections): the figures are
    # of requests, not of 100 TLS handshakes at once
    conns = await asyncio.gather(*(connect(port, ctx) for _ in per))
    deadline = time.monotonic() + 120
    start = time.perf_counter()
    tasks = [asyncio.create_task(client(port, ctx, w, latencies, stats, deadline, c)) for w, c in zip(per, conns)]
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
    p.add_argument("--cluster", type=int, default=0, metavar="N",
                   help="send each workload's pod N times as the pods of one ReplicaSet (new templates each run)")
    p.add_argument("--client", choices=("asyncio", "wrk"), default="asyncio",
                   help="wrk: Debian's C load generator (apt-get install wrk), for --seconds per client count")
    p.add_argument("--seconds", type=float, default=8.0, help="with --client wrk: how long each run lasts")
    args = p.parse_args()
    if args.client == "wrk" and not shutil.which("wrk"):
        sys.exit("--client wrk needs wrk (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as d:
        profile = Path(d) / "profile.yaml"
        profile.write_text(f"extends: {args.profile}\nadmission: {{cache: {args.cache}, generatorWarnings: false}}\n")
        server = start(Path(d), str(profile), "--workers", str(args.workers), *args.serve_args.split())
        try:
            work = bodies(Path(args.corpus))
            unique = len(work)
            print(f"{len(work)} workloads from the corpus's Pods and Deployments"
                  + (f", each sent {args.cluster} times as a ReplicaSet's pods" if args.cluster else ", each once")
                  + f"; profile {args.profile}, admission.cache {args.cache}; client {args.client}; "
                  f"{args.workers} worker process(es) {args.serve_args}; {os.cpu_count()} CPUs; "
                  f"load average {os.getloadavg()[0]:.1f}")
            asyncio.run(run(server.port, server.ca, 4, 200, requests_of(work)))  # warm-up: imports, caches
            for round_, n in enumerate(int(c) for c in args.clients.split(",")):
                if args.cluster:  # new templates each run; wrk runs for a time: enough rounds that none repeats
                    rounds = 1 if args.client == "asyncio" else min(4, 1 + int(args.seconds * 3000) // (unique * args.cluster))
                    work = [b for r in range(rounds)
                            for b in bodies(Path(args.corpus), cluster=args.cluster, round_=10 * (round_ + 1) + r)]
                pids = workers(server.proc.pid)
                before, mine = cpu_seconds(pids), _client_cpu()
                if args.client == "wrk":
                    result = run_wrk(server.port, n, args.seconds, work, Path(d))
                else:
                    result = asyncio.run(run(server.port, server.ca, n, args.requests, requests_of(work)))
                result["client_cpu_ms_per_request"] = round((_client_cpu() - mine) / result["requests"] * 1000, 2)
                # server CPU per answer: what the machine's other load disturbs least
                result["server_cpu_ms_per_request"] = round((cpu_seconds(pids) - before) / result["requests"] * 1000, 2)
                result["memory_mb"] = {pid: memory(pid) for pid in workers(server.proc.pid)}
                result["load_average"] = round(os.getloadavg()[0], 1)
                print(json.dumps(result))
            if args.kill:
                victim = workers(server.proc.pid)[0]
                result = asyncio.run(run(server.port, server.ca, 10, args.requests, requests_of(work), kill=victim))
                print(json.dumps({"killed_worker": victim, **result}))
        finally:
            server.stop()


def _client_cpu() -> float:
    """CPU time of the load generator: this process and the wrk processes it waited for."""
    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def run_wrk(port: int, clients: int, seconds: float, work: list[bytes], scratch: Path) -> dict[str, Any]:
    """One wrk run (one thread, `clients` keep-alive connections, `seconds`), through benchmarks/admission_wrk.lua."""
    listing = scratch / "bodies.jsonl"
    listing.write_bytes(b"\n".join(work) + b"\n")
    done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--timeout", "10s", "-s",
                           str(HERE / "admission_wrk.lua"), f"https://127.0.0.1:{port}/mutate", "--", str(listing)],
                          capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    ms = {k.replace("_us", "_ms"): round(v / 1000, 1) for k, v in out.items() if k.endswith("_us")}
    return {"clients": clients, "requests": out["requests"], "seconds": ms.pop("duration_ms") / 1000,
            "throughput": round(out["requests"] / (out["duration_us"] / 1e6), 1), **ms,
            "errors": out["errors"], "non_200": out["status_errors"]}


if __name__ == "__main__":
    main()
