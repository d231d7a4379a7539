// A hash for unordered containers keyed by std::string that are looked up with any string-like
// key (std::string_view, const char*) without building a std::string:
//   std::unordered_map<std::string, T, StringHash, std::equal_to<>> m;  m.find(view);
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace citybed {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace citybed
