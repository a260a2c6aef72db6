-- wrk script for tests/postgres/two_servers_load_test.sh: consent changes and decisions over the
-- same people, mixed on every connection, every answer counted.
-- Arguments (after wrk's "--"): TOKEN PEOPLE [CONSENT_PERCENT=50]; the people are p1..pPEOPLE.
-- Each thread counts its answers by kind and status in `counts` ("consent 201", "decision 200",
-- "consent 409 CONFLICT", ... : a problem's code is added to its status), and keeps the bodies
-- of non-2xx answers that carry database text in `leaks`. done() sums the threads' tables (each
-- thread has its own Lua state: setup() keeps the thread objects, thread:get() copies a table
-- out) and prints one line per counter:
--   count KIND STATUS [CODE] N
--   leak BODY
--   total REQUESTS SECONDS SOCKET_ERRORS TIMEOUTS

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local requests = {}
local kinds = {}
counts = {}
leaks = {}

function init(args)
  local token = args[1]
  local people = tonumber(args[2])
  local consent_percent = tonumber(args[3] or "50")
  local headers = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
  -- 100 slots per person: CONSENT_PERCENT of them consent changes (given and withdrawn in
  -- turn), the rest decisions; request() picks a slot at random.
  for i = 1, people do
    local id = "p" .. i
    local give = wrk.format("POST", "/v1/subjects/" .. id .. "/consents", headers,
      '{"target":"newsletter","given":true,"channel":"web"}')
    local withdraw = wrk.format("POST", "/v1/subjects/" .. id .. "/consents", headers,
      '{"target":"newsletter","given":false,"channel":"web"}')
    local decide = wrk.format("POST", "/v1/decisions", headers,
      '{"subject_id":"' .. id .. '","purpose":"newsletter","categories":["user.contact.email"]}')
    for s = 1, 100 do
      if s <= consent_percent then
        table.insert(requests, (s % 2 == 0) and give or withdraw)
      else
        table.insert(requests, decide)
      end
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
end

function request()
  return requests[math.random(#requests)]
end

local function count(key)
  counts[key] = (counts[key] or 0) + 1
end

function response(status, headers, body)
  body = body or ""
  -- Which request this answers: wrk does not say, so the answer tells. A consent change answers
  -- 201, a decision 200; a problem names its path in `instance`.
  local kind
  if status == 201 then
    kind = "consent"
  elseif status == 200 then
    kind = "decision"
  else
    local instance = body:match('"instance":"([^"]*)"') or ""
    if instance:find("/consents", 1, true) then
      kind = "consent"
    elseif instance:find("/decisions", 1, true) then
      kind = "decision"
    else
      kind = "unknown"
    end
  end
  local key = kind .. " " .. status
  if status >= 300 then
    key = key .. " " .. (body:match('"code":"([^"]*)"') or "-")
    local lower = body:lower()
    if #leaks < 20 and (lower:find("postgres", 1, true) or lower:find("duplicate key", 1, true)
        or lower:find("constraint", 1, true)) then
      table.insert(leaks, (body:gsub("[\r\n]", " ")))
    end
  end
  count(key)
end

function done(summary, latency, requests_stats)
  local totals = {}
  local all_leaks = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts") or {}
    for key, n in pairs(c) do totals[key] = (totals[key] or 0) + n end
    local l = thread:get("leaks") or {}
    for _, body in ipairs(l) do table.insert(all_leaks, body) end
  end
  local keys = {}
  for key in pairs(totals) do table.insert(keys, key) end
  table.sort(keys)
  for _, key in ipairs(keys) do io.write(string.format("count %s %d\n", key, totals[key])) end
  for _, body in ipairs(all_leaks) do io.write("leak " .. body .. "\n") end
  local e = summary.errors
  io.write(string.format("total %d %.3f %d %d\n", summary.requests, summary.duration / 1e6,
    e.connect + e.read + e.write, e.timeout))
  io.write(string.format("latency_p99_ms %.2f\n", latency:percentile(99.0) / 1000))
end
