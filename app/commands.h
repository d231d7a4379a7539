// The CLI's subcommands. Each Register* adds a subcommand to the CLI11 app and arranges for
// its handler to run when chosen; the handler's return value becomes the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace citybed::app {

// Set by the chosen subcommand's callback; main() runs it after parsing.
using Action = std::function<int()>;

// Validators whose messages give their bounds as plain numbers ("must be between 1 and 256,
// got 0"), unlike CLI11's ranges, which print the limits of a double in full.
CLI::Validator Between(double lo, double hi);
CLI::Validator Positive();     // > 0
CLI::Validator NonNegative();  // >= 0

// "unknown command 'rn' — did you mean 'run'?" / "unknown option '--sped' of 'citybed run' —
// did you mean '--speed'?" for arguments the parser did not expect; "" when there is no hint.
std::string SuggestFor(const CLI::App& app, int argc, const char* const* argv);

void RegisterDemo(CLI::App& app, Action& action);
void RegisterBroker(CLI::App& app, Action& action);
void RegisterAdapter(CLI::App& app, Action& action);
void RegisterConformance(CLI::App& app, Action& action);
// calibrate: measures a broker for model mode.
void RegisterCalibrate(CLI::App& app, Action& action);
// validate-model: emulation and model side by side.
void RegisterValidateModel(CLI::App& app, Action& action);
// capacity: the load at which the SLOs break, and the rollout it means.
void RegisterCapacity(CLI::App& app, Action& action, const std::string& command_line);
// run, validate, entities, sources. `command_line` is recorded in run manifests.
void RegisterRun(CLI::App& app, Action& action, const std::string& command_line);

}  // namespace citybed::app
