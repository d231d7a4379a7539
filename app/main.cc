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
      "Drives real NGSI-LD brokers with synthetic cities and reports what they hold."};
  app.name("citybed");
  app.set_version_flag("--version",
                       "citybed " + std::string(citybed::Version()) + " (commit " +
                           std::string(citybed::GitCommit()) + ")");
  app.footer("Exit codes: 0 ok, 1 an SLO failed, 2 usage or invalid scenario, 3 invalid run,\n"
             "4 runtime error. See README.md.");

  Action action;
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  RegisterRun(app, action, command_line);
  RegisterBroker(app, action);
  RegisterDemo(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "citybed: error: %s\nRun 'citybed --help' for the commands and options.\n",
                 e.what());
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
