-- wrk script: POST one order per request, each with a unique client_order_id.
-- Environment: BENCH_PATH, BENCH_AUTH_NAME and BENCH_AUTH_VALUE (the
-- auth header; the value may be empty), BENCH_BODY (JSON with the
-- placeholder __COID__), BENCH_RUN_ID (makes ids unique across runs), BENCH_MAX
-- (seeding mode: after that many answers, print "BENCHMAX <n>" and exit at once, since wrk
-- itself always runs for its whole -d; 0 = none). done() prints one line "BENCHJSON {...}".
local counter = 1
local threads = {}

function setup(thread)
   thread:set("tid", counter)
   table.insert(threads, thread)
   counter = counter + 1
end

local path = os.getenv("BENCH_PATH")
local auth_name = os.getenv("BENCH_AUTH_NAME") or "Authorization"
local auth_value = os.getenv("BENCH_AUTH_VALUE") or ""
local body_tpl = os.getenv("BENCH_BODY")
local run_id = os.getenv("BENCH_RUN_ID") or "r"
local max = tonumber(os.getenv("BENCH_MAX") or "0")
local headers = { ["Content-Type"] = "application/json" }
if auth_value ~= "" then headers[auth_name] = auth_value end

local n = 0
local got = 0

function request()
   n = n + 1
   local coid = string.format("%s-%d-%d", run_id, tid, n)
   local body = string.gsub(body_tpl, "__COID__", coid)
   return wrk.format("POST", path, headers, body)
end

if max > 0 then
   function response(status, hdrs, b)
      got = got + 1
      if got >= max then
         io.write(string.format("BENCHMAX %d\n", got))
         io.flush()
         os.exit(0)
      end
   end
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
