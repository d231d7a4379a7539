// The CLI's subcommands. Each Register* adds a subcommand to the CLI11 app and arranges for
// its handler to run when chosen; the handler's return value becomes the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace citybed::app {

// Set by the chosen subcommand's callback; main() runs it after parsing.
using Action = std::function<int()>;

void RegisterDemo(CLI::App& app, Action& action);
void RegisterBroker(CLI::App& app, Action& action);
// run, validate, entities, sources. `command_line` is recorded in run manifests.
void RegisterRun(CLI::App& app, Action& action, const std::string& command_line);

}  // namespace citybed::app
