// citybed: the command-line entry point. Parses the command line and runs one subcommand.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <string>

#include "citybed/common/version.h"
#include "commands.h"
#include "exit_codes.h"

int main(int argc, char** argv) {
  using namespace citybed::app;
  CLI::App app{
      "citybed: simulation and test-bed for smart-city data platforms.\n"
      "Drives real NGSI-LD and NGSI-v2 brokers with synthetic cities and reports what they hold."};
  app.name("citybed");
  app.set_version_flag("--version",
                       "citybed " + std::string(citybed::Version()) + " (commit " +
                           std::string(citybed::GitCommit()) + ")");
  app.footer("Exit codes: 0 ok, 1 an SLO failed or could not be judged, 2 usage or invalid scenario,\n"
             "3 invalid run, 4 runtime error. See README.md.");

  Action action;
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  RegisterRun(app, action, command_line);
  RegisterBroker(app, action);
  RegisterAdapter(app, action);
  RegisterConformance(app, action);
  RegisterCalibrate(app, action);
  RegisterValidateModel(app, action);
  RegisterCapacity(app, action, command_line);
  RegisterDemo(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    const std::string hint = SuggestFor(app, argc, argv);
    if (!hint.empty() && (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr ||
                          dynamic_cast<const CLI::RequiredError*>(&e) != nullptr)) {
      std::fprintf(stderr, "citybed: error: %s\n", hint.c_str());
    } else {
      std::fprintf(stderr, "citybed: error: %s\n", e.what());
    }
    std::fprintf(stderr, "Run 'citybed --help' for the commands, 'citybed COMMAND --help' for a command's options.\n");
    return kExitUsage;
  }
  if (!action) {
    std::fprintf(stderr, "%s\ncitybed: error: no command given\n", app.help().c_str());
    return kExitUsage;
  }
  try {
    return action();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "citybed: error: %s\n", e.what());
    return kExitRuntimeError;
  }
}
