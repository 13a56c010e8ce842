"""Prometheus text exposition (format 0.0.4) of what one `kharden serve` process has answered.

    kharden_admission_requests_total{endpoint,result}     counter
    kharden_admission_duration_seconds{endpoint}          histogram (buckets below)
    kharden_profile_info{profile,digest}                  1: which profile this process enforces
    kharden_admission_cache_total{outcome}                hit or miss of the answers remembered (admission.cache)

Each worker process counts its own requests (Prometheus scrapes each pod; with --workers N a scrape reaches one
process of N): the numbers are per process, as in any pre-fork server without shared memory.
"""

from __future__ import annotations

import bisect
from collections import Counter
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, profile: str, digest: str) -> None:
        self.profile = profile
        self.digest = digest
        self.requests: Counter[tuple[str, str]] = Counter()
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.memo: Any = None  # kharden.admission.memo.Memo: its hits and misses

    def observe(self, endpoint: str, result: str, seconds: float) -> None:
        self.requests[(endpoint, result)] += 1
        counts = self.buckets.setdefault(endpoint, [0] * (len(BUCKETS) + 1))
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[endpoint] = self.sums.get(endpoint, 0.0) + seconds

    def text(self) -> str:
        lines = ["# HELP kharden_admission_requests_total Admission requests answered, by endpoint and result.",
                 "# TYPE kharden_admission_requests_total counter"]
        lines += [f'kharden_admission_requests_total{{endpoint="{e}",result="{r}"}} {n}'
                  for (e, r), n in sorted(self.requests.items())]
        lines += ["# HELP kharden_admission_duration_seconds Time from the whole body read to the answer.",
                  "# TYPE kharden_admission_duration_seconds histogram"]
        for endpoint, counts in sorted(self.buckets.items()):
            running = 0
            for bound, n in zip([*map(str, BUCKETS), "+Inf"], counts):
                running += n
                lines.append(f'kharden_admission_duration_seconds_bucket{{endpoint="{endpoint}",le="{bound}"}} {running}')
            lines.append(f'kharden_admission_duration_seconds_sum{{endpoint="{endpoint}"}} {self.sums[endpoint]:.6f}')
            lines.append(f'kharden_admission_duration_seconds_count{{endpoint="{endpoint}"}} {running}')
        lines += ["# HELP kharden_profile_info The profile this process enforces (digest: of its resolved options).",
                  "# TYPE kharden_profile_info gauge",
                  f'kharden_profile_info{{profile="{self.profile}",digest="{self.digest}"}} 1']
        if self.memo is not None and self.memo.size > 0:
            lines += ["# HELP kharden_admission_cache_total Objects answered from memory (hit) or hardened (miss).",
                      "# TYPE kharden_admission_cache_total counter",
                      f'kharden_admission_cache_total{{outcome="hit"}} {self.memo.hits}',
                      f'kharden_admission_cache_total{{outcome="miss"}} {self.memo.misses}']
        return "\n".join(lines) + "\n"
