-- v2_update.lua -- NGSI-v2 POST /v2/op/update, actionType append, one entity (entities.lua
-- entity_v2) over the same 10,000 ids as upsert.lua.
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local E = require("entities")
math.randomseed(1)
request = E.prebuild(10000, function(_)
  local id = math.random(0, 9999)
  return wrk.format("POST", "/v2/op/update", {["Content-Type"] = "application/json"},
                    '{"actionType":"append","entities":[' .. E.entity_v2(id) .. ']}')
end)
