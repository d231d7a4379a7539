// libFuzzer target: the query languages' parsers (docs/reliability.md, "Fuzzing") — NGSI-LD q
// and NGSI-v2 q and mq (Orion's Simple Query Language) — so that no q string can crash, hang or
// recurse without bound. Evaluation against stored entities is fuzzed through the broker target.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "citybed/broker/query.h"

using namespace citybed::broker;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view q(reinterpret_cast<const char*>(data), size);
  (void)Query::Parse(q);
  (void)Query::ParseV2(q, false);
  (void)Query::ParseV2(q, true);
  return 0;
}
