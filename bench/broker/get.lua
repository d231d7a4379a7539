-- get.lua -- GET one entity by id, over 10,000 distinct preloaded ids. The URL's path up to its
-- last '/' is the collection: .../ngsi-ld/v1/entities/x for NGSI-LD, .../v2/entities/x for NGSI-v2.
math.randomseed(2)
local prefix = wrk.path:match("^(.*/)")
local reqs = {}
for i = 1, 10000 do
  reqs[i] = wrk.format("GET", string.format("%surn:ngsi-ld:AirQualityObserved:bench:%06d", prefix,
                                            math.random(0, 9999)))
end
local k = 0
request = function()
  k = k % 10000 + 1
  return reqs[k]
end
