-- v2_update.lua -- NGSI-v2 POST /v2/op/update, actionType append, one entity over the same
-- 10,000 ids as upsert.lua: entities.lua entity_v2 (~400 bytes), or with V2_FULL=1 in the
-- environment entity_v2_full (the same information as the NGSI-LD entity, ~590 bytes).
package.path = package.path .. ";" .. debug.getinfo(1, "S").source:match("@(.*/)") .. "?.lua"
local E = require("entities")
local make = os.getenv("V2_FULL") == "1" and E.entity_v2_full or E.entity_v2
math.randomseed(1)
request = E.prebuild(10000, function(_)
  local id = math.random(0, 9999)
  return wrk.format("POST", "/v2/op/update", {["Content-Type"] = "application/json"},
                    '{"actionType":"append","entities":[' .. make(id) .. ']}')
end)
