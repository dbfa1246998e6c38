-- absolute.lua - wrk script of bench/run.sh: a GET in absolute form
-- ("GET http://origin/path", what a client sends a forward proxy), or in
-- origin form with BENCH_DIRECT=1 (the direct baseline), to BENCH_URL;
-- with BENCH_BODY=N a POST of an N-byte body instead (the upload row).
-- done() prints one "BENCH ..." line for bench.py.
local url = os.getenv("BENCH_URL")
local hostport, path = url:match("^http://([^/]+)(/.*)$")
local body = tonumber(os.getenv("BENCH_BODY") or "0")
wrk.method = body > 0 and "POST" or "GET"
if body > 0 then
   -- wrk adds Content-Length for a body
   wrk.body = string.rep("x", body)
end
wrk.path = os.getenv("BENCH_DIRECT") == "1" and path or url
wrk.headers["Host"] = hostport

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("BENCH requests=%d duration_us=%d bytes=%d errors=%d\n",
      summary.requests, summary.duration, summary.bytes,
      e.connect + e.read + e.write + e.status + e.timeout))
end
