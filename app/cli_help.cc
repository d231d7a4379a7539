// Helpers of the command line shared by the subcommands: validators with plain messages, and
// "did you mean" hints for mistyped commands and options.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "citybed/common/strings.h"
#include "commands.h"

namespace citybed::app {

namespace {
// 0.01, 256, 100000000: no exponent for the bounds a command line has.
std::string Plain(double v) {
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

CLI::Validator NumberCheck(const std::string& description, const std::function<bool(double)>& ok, const std::string& rule) {
  return CLI::Validator(
      [ok, rule](std::string& input) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(input.c_str(), &end);
        if (end == input.c_str() || *end != '\0' || !std::isfinite(v)) return "must be a number (got \"" + input + "\")";
        if (!ok(v)) return "must be " + rule + " (got " + input + ")";
        return "";
      },
      description);
}
}  // namespace

CLI::Validator Between(double lo, double hi) {
  return NumberCheck("[" + Plain(lo) + " to " + Plain(hi) + "]", [lo, hi](double v) { return v >= lo && v <= hi; },
                     "between " + Plain(lo) + " and " + Plain(hi));
}
CLI::Validator Positive() { return NumberCheck("> 0", [](double v) { return v > 0; }, "greater than 0"); }
CLI::Validator NonNegative() { return NumberCheck(">= 0", [](double v) { return v >= 0; }, "0 or more"); }

std::string SuggestFor(const CLI::App& app, int argc, const char* const* argv) {
  std::vector<std::string> commands;
  for (const CLI::App* sc : app.get_subcommands([](const CLI::App*) { return true; })) commands.push_back(sc->get_name());
  if (argc < 2) return "";
  const std::string first = argv[1];
  if (first.empty() || first[0] == '-') return "";
  const CLI::App* chosen = nullptr;
  for (const CLI::App* sc : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sc->get_name() == first) chosen = sc;
  }
  if (chosen == nullptr) {
    const std::string hint = ClosestMatch(first, commands);
    return "unknown command '" + first + "'" + (hint.empty() ? "" : " — did you mean '" + hint + "'?");
  }
  std::vector<std::string> options;
  for (const CLI::Option* o : chosen->get_options()) {
    for (const std::string& name : o->get_lnames()) options.push_back("--" + name);
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) continue;
    arg = arg.substr(0, arg.find('='));
    if (std::find(options.begin(), options.end(), arg) != options.end()) continue;
    const std::string hint = ClosestMatch(arg, options);
    return "unknown option '" + arg + "' of 'citybed " + first + "'" + (hint.empty() ? "" : " — did you mean '" + hint + "'?");
  }
  return "";
}

}  // namespace citybed::app
