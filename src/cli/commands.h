// The `seam` subcommands. Each file registers its subcommands on the app: flags in, one call into
// the layers, the exit code out. Errors are printed by ReportError as one line on stderr.
#pragma once

#include <CLI/CLI.hpp>

#include "common/status.h"

namespace seam::cli {

// Each Register* adds subcommands whose callbacks store their exit code in `exit_code`.
void RegisterGraphCommands(CLI::App& app, int& exit_code);     // analyze, split
void RegisterVerifyCommand(CLI::App& app, int& exit_code);     // verify
void RegisterProfileCommand(CLI::App& app, int& exit_code);    // profile
void RegisterPlanCommand(CLI::App& app, int& exit_code);       // plan
void RegisterCalibrateCommand(CLI::App& app, int& exit_code);  // calibrate
void RegisterServeCommand(CLI::App& app, int& exit_code);      // serve
void RegisterProbeCommand(CLI::App& app, int& exit_code);      // probe
void RegisterRelayCommand(CLI::App& app, int& exit_code);      // relay
void RegisterDeployCommand(CLI::App& app, int& exit_code);     // deploy
void RegisterRunCommand(CLI::App& app, int& exit_code);        // run
void RegisterCascadeCommand(CLI::App& app, int& exit_code);    // cascade run, calibrate
void RegisterSealCommands(CLI::App& app, int& exit_code);      // keygen, seal

// Flag checks whose message a user can read (CLI11's own print the range up to 1.8e308).
extern const CLI::Validator kPositive;     // a number > 0
extern const CLI::Validator kNonNegative;  // a number >= 0

// Prints "seam: error: <message>" and returns the exit code for a failed command (1).
int ReportError(const Status& status);

}  // namespace seam::cli
