-- wrk's summary as one line the benchmark scripts read:
-- BENCH requests duration_us p50_us p99_us non2xx socket_errors timeouts
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d %d %d %d\n",
    summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write, e.timeout))
end
