// The operation classes of a broker's work, and the one table that names them: what the
// broker's service metrics are kept by (GET /metrics), what `citybed calibrate` measures and
// what the queueing model of model mode serves. A request's class follows from its method and
// target alone (NGSI-LD and NGSI-v2 paths), so a client and the broker classify it alike.
//
//   upsert        one entity written: create, replace, update/append/merge of attributes, delete
//   batch-upsert  entityOperations (create, upsert, update, delete, merge) and /v2/op/update
//   get           one entity read by id
//   query         entities listed or queried (GET /entities, POST entityOperations/query, /v2/op/query)
//   geo-query     a query with a geo-relation (georel= in the query string)
//   subscription  subscription create, read, update, delete
//   notification  a notification the broker sends (not a request it receives)
//   other         everything else (registrations, types, attributes, @contexts, /version, /metrics)
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace citybed {

enum class OpClass : uint8_t { kUpsert, kBatchUpsert, kGet, kQuery, kGeoQuery, kSubscription, kNotification, kOther, kCount };
inline constexpr size_t kOpClasses = static_cast<size_t>(OpClass::kCount);

std::string_view OpClassName(OpClass c);
std::optional<OpClass> OpClassFromName(std::string_view name);
// The class of a request received; `method` as on the request line ("GET", ...), `target` with
// or without its query string.
OpClass ClassifyRequest(std::string_view method, std::string_view target);
// The class of a whole HTTP/1.1 request as written ("GET /path?q HTTP/1.1\r\n..."): its
// request line's method and target; other for anything else.
OpClass ClassifyWire(std::string_view wire);

}  // namespace citybed
