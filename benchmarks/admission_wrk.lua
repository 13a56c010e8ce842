-- wrk script for benchmarks/admission_load.py --client wrk: POST the AdmissionReviews of a file (one JSON body
-- a line) to /mutate in turn, each connection of a thread walking the list from its own offset; at the end print
-- one JSON line with the counts and the latency percentiles (microseconds), which the benchmark reads.
local requests = {}
local next_index = 1

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    requests[#requests + 1] = wrk.format("POST", "/mutate", {["Content-Type"] = "application/json"}, line)
  end
  file:close()
  next_index = (tonumber(args[2] or "0") % #requests) + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write + e.timeout, e.status))
end
