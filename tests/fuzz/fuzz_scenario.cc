// libFuzzer target: the scenario loader (docs/reliability.md, "Fuzzing"). Any text either loads
// or gets errors that each name a JSON pointer; a scenario that loads builds its World (regions,
// network, source and user groups) within the loader's bounds of time and memory.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "citybed/models/scenario.h"
#include "citybed/models/world.h"

using namespace citybed::models;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto s = ParseScenario(text, "fuzz.json");
  if (!s) {
    if (s.error().empty()) {
      std::fprintf(stderr, "fuzz_scenario: refused without saying why\n");
      std::abort();
    }
    return 0;
  }
  // Bound the World's size here as a run would meet it: the loader has accepted the scenario,
  // so building it must not crash.
  (void)World::Build(*s);
  return 0;
}
