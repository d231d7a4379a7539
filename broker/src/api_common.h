// Small helpers both APIs (NGSI-LD and NGSI-v2) use; private to citybed_broker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/broker/entity.h"

namespace citybed::broker {

// Names of all attributes of an entity (for notifications on creation and replacement).
std::vector<uint32_t> AllAttributeNames(const Entity& e);
// Parses a comma-separated list parameter.
std::vector<std::string> SplitList(std::string_view s);
// Reads a non-negative integer parameter; false if malformed.
bool ParseCount(std::string_view s, size_t& out);

}  // namespace citybed::broker
