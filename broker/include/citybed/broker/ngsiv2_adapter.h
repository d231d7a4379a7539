// V2ToLd: NGSI-v2 entities (Orion's normalized JSON) as NGSI-LD normalized entities, by the
// broker's own mapping between the two APIs (docs/broker.md, "One store, two APIs"): a v2 id
// that is not a URI becomes urn:ngsi-ld:<id>... as the embedded broker stores it, attribute
// types become Property / GeoProperty / Relationship, the observedAt and unitCode metadata
// become the NGSI-LD members. What `citybed adapter` serves for an NGSI-v2 broker so that it
// can join a federation as an NGSI-LD context source. Thread-safe (the Interner is).
#pragma once

#include <string>
#include <string_view>

#include "citybed/broker/context.h"
#include "citybed/broker/entity.h"
#include "citybed/broker/interner.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

class V2ToLd {
 public:
  // `ctx`: the @context the NGSI-LD answer is compacted with (the client's).
  V2ToLd(Interner& names, const Context& ctx) : names_(names), ctx_(ctx) {}
  // One v2 entity object's JSON text, or an array of them (a query's answer), as NGSI-LD
  // JSON text rendered with `opts`. Errors say what is not a v2 entity.
  Expected<std::string, std::string> Convert(std::string_view v2_json, const RenderOptions& opts) const;

 private:
  Interner& names_;
  const Context& ctx_;
};

}  // namespace citybed::broker
