// Writing JSON text directly (no DOM): the escaping and number formatting that the broker's
// responses and the emulation's request bodies share.
#pragma once

#include <string>
#include <string_view>

namespace citybed {

// Appends `s` as a quoted JSON string with the required escapes. Bytes that are not part of a
// valid UTF-8 sequence (text from a URL or a header may hold any) are written as U+FFFD, so the
// result is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);
// The length (2-4) of the valid UTF-8 sequence starting with the non-ASCII byte s[i]: no
// overlong forms, surrogates or code points above U+10FFFF (RFC 3629); 0 when it is invalid.
size_t Utf8SequenceLength(std::string_view s, size_t i);
// Appends a number in the shortest form that reads back to the same double ("22.5", "1e+21");
// integral values up to 2^53 print without a fraction; NaN and infinities print as null.
void AppendJsonNumber(std::string& out, double v);

}  // namespace citybed
