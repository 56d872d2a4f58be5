-- Hello world pipelined: each write carries PIPELINE_DEPTH (default 16) GET requests.
-- wrk times the batch, so latency here is per batch of 16.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

local depth = tonumber(os.getenv("PIPELINE_DEPTH") or "16")

init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", wrk.path)
  end
  req = table.concat(r)
end

request = function()
  return req
end
