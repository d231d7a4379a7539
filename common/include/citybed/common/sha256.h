// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits. Identifies the exact
// scenario text a run used (recorded in every result folder's manifest).
#pragma once

#include <string>
#include <string_view>

namespace citybed {

std::string Sha256Hex(std::string_view data);

}  // namespace citybed
