-- batch100.lua -- batch upsert of 100 entities per request (~40 KB), ids spread over 10,000.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local E = require("entities")
math.randomseed(3)
request = E.prebuild(200, function(_)
  local parts = {}
  local base = math.random(0, 99) * 100
  for j = 0, 99 do parts[#parts + 1] = E.entity(base + j) end
  return wrk.format("POST", "/ngsi-ld/v1/entityOperations/upsert",
                    {["Content-Type"] = "application/json"}, "[" .. table.concat(parts, ",") .. "]")
end)
