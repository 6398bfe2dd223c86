-- wrk script: GET BENCH_PATH with the auth header BENCH_AUTH_NAME: BENCH_AUTH_VALUE (may be
-- empty); done() prints "BENCHJSON {...}". A "__N__" in the path becomes a number that differs
-- on every request (a cursor above every order id: the same first page, never the same URL,
-- so the gateway's page cache never answers it).
local path = os.getenv("BENCH_PATH")
local auth_name = os.getenv("BENCH_AUTH_NAME") or "Authorization"
local auth_value = os.getenv("BENCH_AUTH_VALUE") or ""
local headers = {}
if auth_value ~= "" then headers[auth_name] = auth_value end

local n = 0
local varying = string.find(path, "__N__", 1, true) ~= nil

function request()
   if varying then
      n = n + 1
      return wrk.format("GET", string.gsub(path, "__N__", tostring(900000000000 - n)), headers)
   end
   return wrk.format("GET", path, headers)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCHJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"mean_us": %.1f, "max_us": %d, "errors_status": %d, "errors_connect": %d, ' ..
      '"errors_read": %d, "errors_write": %d, "errors_timeout": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      latency.mean, latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
