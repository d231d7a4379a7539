#include "citybed/common/op_class.h"

namespace citybed {

namespace {

constexpr std::array<std::string_view, kOpClasses> kNames = {"upsert",   "batch-upsert", "get",          "query",
                                                             "geo-query", "subscription", "notification", "other"};

// The path's segments after `prefix`, up to three: e.g. {"entities", "<id>", "attrs"}.
struct Segments {
  std::array<std::string_view, 3> s{};
  size_t n = 0;
};
Segments Split(std::string_view path) {
  Segments out;
  while (!path.empty() && out.n < out.s.size()) {
    const size_t slash = path.find('/');
    const std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) out.s[out.n++] = seg;
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool HasGeoRel(std::string_view query) {
  for (size_t pos = 0; (pos = query.find("georel=", pos)) != std::string_view::npos; pos += 7) {
    if (pos == 0 || query[pos - 1] == '&') return true;
  }
  return false;
}

}  // namespace

std::string_view OpClassName(OpClass c) {
  const auto i = static_cast<size_t>(c);
  return i < kNames.size() ? kNames[i] : "other";
}

std::optional<OpClass> OpClassFromName(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<OpClass>(i);
  }
  return std::nullopt;
}

OpClass ClassifyRequest(std::string_view method, std::string_view target) {
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  Segments seg;
  bool v2 = false;
  if (path.rfind("/ngsi-ld/v1/", 0) == 0) {
    seg = Split(path.substr(12));
  } else if (path.rfind("/v2/", 0) == 0) {
    seg = Split(path.substr(4));
    v2 = true;
  } else {
    return OpClass::kOther;
  }
  if (seg.n == 0) return OpClass::kOther;
  const std::string_view top = seg.s[0];
  const bool get = method == "GET" || method == "HEAD";
  if (top == "entities") {
    if (seg.n == 1) {
      if (get) return HasGeoRel(query) ? OpClass::kGeoQuery : OpClass::kQuery;
      return method == "POST" ? OpClass::kUpsert : OpClass::kOther;
    }
    if (get) return OpClass::kGet;
    return OpClass::kUpsert;
  }
  if (top == "subscriptions") return OpClass::kSubscription;
  if (!v2 && top == "entityOperations" && seg.n >= 2 && method == "POST") {
    return seg.s[1] == "query" ? OpClass::kQuery : OpClass::kBatchUpsert;
  }
  if (v2 && top == "op" && seg.n >= 2 && method == "POST") {
    if (seg.s[1] == "update") return OpClass::kBatchUpsert;
    if (seg.s[1] == "query") return OpClass::kQuery;
  }
  return OpClass::kOther;
}

OpClass ClassifyWire(std::string_view wire) {
  const size_t sp = wire.find(' ');
  if (sp == std::string_view::npos) return OpClass::kOther;
  const size_t sp2 = wire.find(' ', sp + 1);
  if (sp2 == std::string_view::npos) return OpClass::kOther;
  return ClassifyRequest(wire.substr(0, sp), wire.substr(sp + 1, sp2 - sp - 1));
}

}  // namespace citybed
