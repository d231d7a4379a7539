-- upsert.lua -- single-entity batch upsert (~400-byte entity) over 10,000 distinct ids.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local E = require("entities")
math.randomseed(1)
request = E.prebuild(10000, function(_)
  local id = math.random(0, 9999)
  return wrk.format("POST", "/ngsi-ld/v1/entityOperations/upsert",
                    {["Content-Type"] = "application/json"}, "[" .. E.entity(id) .. "]")
end)
