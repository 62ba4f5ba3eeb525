// The `seam` executable: flags in, one command out. Nothing here but registration and dispatch.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"

namespace seam::cli {
namespace {

CLI::Validator NumberCheck(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& text) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size() || !(allow_zero ? v >= 0 : v > 0) || !std::isfinite(v)) {
          return std::string(allow_zero ? "must be a number >= 0" : "must be a number > 0") +
                 ", got '" + text + "'";
        }
        return "";
      },
      allow_zero ? "NUMBER>=0" : "NUMBER>0");
}

}  // namespace

const CLI::Validator kPositive = NumberCheck(false);
const CLI::Validator kNonNegative = NumberCheck(true);

}  // namespace seam::cli

int main(int argc, char** argv) {
  CLI::App app{"seam: divide deep-learning inference between device, edge and cloud"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "seam 0.1.0");
  // Options from a file as well as flags: `seam --config seam.toml serve`, the file holding a
  // section per command ([serve], [run], ...) of `option = value` lines (the long name without
  // its dashes). Flags on the command line win; a key that names no option is an error, never
  // silently ignored.
  app.set_config("--config", "",
                 "read options from this TOML/INI file: a [COMMAND] section of 'option = value' "
                 "lines per command (flags given on the command line win)");
  app.allow_config_extras(CLI::config_extras_mode::error);
  int exit_code = 0;
  seam::cli::RegisterGraphCommands(app, exit_code);
  seam::cli::RegisterVerifyCommand(app, exit_code);
  seam::cli::RegisterProfileCommand(app, exit_code);
  seam::cli::RegisterPlanCommand(app, exit_code);
  seam::cli::RegisterCalibrateCommand(app, exit_code);
  seam::cli::RegisterServeCommand(app, exit_code);
  seam::cli::RegisterProbeCommand(app, exit_code);
  seam::cli::RegisterRelayCommand(app, exit_code);
  seam::cli::RegisterDeployCommand(app, exit_code);
  seam::cli::RegisterRunCommand(app, exit_code);
  seam::cli::RegisterCascadeCommand(app, exit_code);
  seam::cli::RegisterSealCommands(app, exit_code);
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed; a mistake on the command line is one line naming
    // the flag or value, and exit code 1 like every other error.
    if (e.get_exit_code() == 0) return app.exit(e);
    std::string message = e.what();
    while (!message.empty() && message.back() == '\n') message.pop_back();
    std::fprintf(stderr, "seam: error: %s (seam --help, or seam COMMAND --help)\n",
                 message.c_str());
    return 1;
  } catch (const std::exception& e) {
    // Last line of defence: every layer returns Status, so reaching this is a bug in seam.
    std::fprintf(stderr, "seam: internal error: %s\n", e.what());
    return 70;
  }
  return exit_code;
}
