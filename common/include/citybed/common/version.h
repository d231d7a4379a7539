// The citybed version and the git commit the binary was built from (recorded in every
// result folder's manifest). The commit is refreshed at every build.
#pragma once

#include <string_view>

namespace citybed {

std::string_view Version();    // "0.1.0"
std::string_view GitCommit();  // "3f2c9a1b7d0e" or "3f2c9a1b7d0e-dirty"; "unknown" outside git

}  // namespace citybed
