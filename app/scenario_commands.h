// The scenario loader the scenario commands share, and the commands that read a scenario
// without running it (scenario_commands.cc).
#pragma once

#include <memory>
#include <string>

#include "citybed/models/scenario.h"
#include "commands.h"

namespace citybed::app {

// Loads and validates; prints every mistake (FILE#/json/pointer: message). Null when invalid.
std::unique_ptr<models::Scenario> LoadScenarioOrReport(const std::string& file);

// validate, entities, regions, sources.
void RegisterScenarioCommands(CLI::App& app, Action& action);

}  // namespace citybed::app
