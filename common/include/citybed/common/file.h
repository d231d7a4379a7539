// Files written so that a reader never sees a half-written one: WriteFileAtomic writes a
// temporary file in the same folder, flushes it to disk and renames it over the target.
#pragma once

#include <string>
#include <string_view>

#include "citybed/common/expected.h"

namespace citybed {

Expected<void> WriteFileAtomic(const std::string& path, std::string_view content);
Expected<std::string> ReadFile(const std::string& path);

}  // namespace citybed
