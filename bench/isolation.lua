-- wrk script for bench/isolation: POST /api/v1/verifications like bench/verify.lua, starting at pair YJ_OFFSET
-- so that each phase walks (merchant, code) pairs no earlier phase used and its answers stay fresh.
local codes, keys = {}, {}
for line in io.lines(os.getenv("YJ_CODES")) do codes[#codes + 1] = line end
for line in io.lines(os.getenv("YJ_KEYS")) do keys[#keys + 1] = line end

local threads = 0
function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end

local step = tonumber(os.getenv("YJ_THREADS") or "2")
local offset = tonumber(os.getenv("YJ_OFFSET") or "0")
local n = nil
function request()
  if n == nil then n = offset + first end
  local code = codes[(n % #codes) + 1]
  local key = keys[(math.floor(n / #codes) % #keys) + 1]
  n = n + step
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, '{"code":"' .. code .. '"}')
end
