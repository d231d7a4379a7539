-- get.lua -- GET one entity by id, over 10,000 distinct preloaded ids.
math.randomseed(2)
local reqs = {}
for i = 1, 10000 do
  reqs[i] = wrk.format("GET", string.format("/ngsi-ld/v1/entities/urn:ngsi-ld:AirQualityObserved:bench:%06d",
                                            math.random(0, 9999)))
end
local k = 0
request = function()
  k = k % 10000 + 1
  return reqs[k]
end
