-- entities.lua -- shared by the wrk scripts: the ~400-byte AirQualityObserved entity of the
-- anchors (../shared/bench/data/entity400.json) with a bench id and varying values.
local M = {}

function M.entity(i)
  return string.format(
    '{"id":"urn:ngsi-ld:AirQualityObserved:bench:%06d","type":"AirQualityObserved",' ..
    '"no2":{"type":"Property","value":%d.5,"observedAt":"2024-05-01T12:00:00Z"},' ..
    '"pm10":{"type":"Property","value":31.2,"observedAt":"2024-05-01T12:00:00Z"},' ..
    '"pm25":{"type":"Property","value":14.8,"observedAt":"2024-05-01T12:00:00Z"},' ..
    '"o3":{"type":"Property","value":61.3,"observedAt":"2024-05-01T12:00:00Z"}}', i, i % 100)
end

-- The entity as an Orion client writes it in NGSI-v2 (~400 bytes): the observation time as a
-- DateTime attribute, Number attributes, one unit as metadata.
function M.entity_v2(i)
  return string.format(
    '{"id":"urn:ngsi-ld:AirQualityObserved:bench:%06d","type":"AirQualityObserved",' ..
    '"dateObserved":{"type":"DateTime","value":"2024-05-01T12:00:00Z"},' ..
    '"no2":{"type":"Number","value":%d.5,"metadata":{"unitCode":{"type":"Text","value":"GQ"}}},' ..
    '"pm10":{"type":"Number","value":31.2,"metadata":{"unitCode":{"type":"Text","value":"GQ"}}},' ..
    '"pm25":{"type":"Number","value":14.8},' ..
    '"o3":{"type":"Number","value":61.3}}', i, i % 100)
end

-- The same information as entity() in NGSI-v2 (what citybed's v2 sources write, ~590 bytes):
-- observedAt metadata on every attribute, which the broker stores as NGSI-LD observedAt.
function M.entity_v2_full(i)
  local obs = '"metadata":{"observedAt":{"type":"DateTime","value":"2024-05-01T12:00:00Z"}}'
  return string.format(
    '{"id":"urn:ngsi-ld:AirQualityObserved:bench:%06d","type":"AirQualityObserved",' ..
    '"no2":{"type":"Number","value":%d.5,%s},"pm10":{"type":"Number","value":31.2,%s},' ..
    '"pm25":{"type":"Number","value":14.8,%s},"o3":{"type":"Number","value":61.3,%s}}',
    i, i % 100, obs, obs, obs, obs)
end

-- Pre-builds `n` requests so that the request() hot path only picks one (cheap for wrk).
function M.prebuild(n, make)
  local reqs = {}
  for i = 1, n do reqs[i] = make(i - 1) end
  local k = 0
  return function()
    k = k + 1
    if k > n then k = 1 end
    return reqs[k]
  end
end

return M
