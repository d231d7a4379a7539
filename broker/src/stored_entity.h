// The durable store's record of one entity: every member of Entity and Attribute, names
// written as their expanded strings (interned ids are per process), values as JSON. The
// encoding is citybed's own and private to the store; it is not an NGSI-LD rendering, so it
// keeps what no rendering shows (the NGSI-v2 id, service path and attribute types).
//
//   {"t": tenant, "id": ..., "v2": ..., "sp": ..., "ty": [IRI...], "c": µs, "m": µs,
//    "a": [{"n": IRI, "k": kind, "d": IRI, "u": code, "o": µs, "c": µs, "m": µs, "vt": type,
//           "v": value, "s": [sub-attributes]}]}
//
// Members at their defaults are left out. Decoding checks every member and fails with a
// message on anything it did not write.
#pragma once

#include <string>
#include <string_view>

#include "citybed/broker/durable_store.h"
#include "citybed/broker/entity.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

void EncodeStoredEntity(std::string& out, std::string_view tenant, const Entity& e, const Interner& names);

struct StoredEntity {
  std::string tenant;
  Entity entity;
};
Expected<StoredEntity> DecodeStoredEntity(std::string_view text, Interner& names);

// A subscription's or registration's record: {"t": tenant, "id": ..., "doc": <the renderer's
// JSON text>} (the key may be hashed, so the record names its tenant and id).
void EncodeStoredDocument(std::string& out, std::string_view tenant, std::string_view id, std::string_view doc);
Expected<StoredDocument> DecodeStoredDocument(char kind, std::string_view text);

}  // namespace citybed::broker
