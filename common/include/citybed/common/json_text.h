// Writing JSON text directly (no DOM): the escaping and number formatting that the broker's
// responses and the emulation's request bodies share.
#pragma once

#include <string>
#include <string_view>

namespace citybed {

// Appends `s` as a quoted JSON string with the required escapes.
void AppendJsonString(std::string& out, std::string_view s);
// Appends a number in the shortest form that reads back to the same double ("22.5", "1e+21");
// integral values up to 2^53 print without a fraction; NaN and infinities print as null.
void AppendJsonNumber(std::string& out, double v);

}  // namespace citybed
