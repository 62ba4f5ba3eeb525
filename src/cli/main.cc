// The `seam` executable: flags in, one command out. Nothing here but registration and dispatch.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"seam: divide deep-learning inference between device, edge and cloud"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "seam 0.1.0");
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
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // Last line of defence: every layer returns Status, so reaching this is a bug in seam.
    std::fprintf(stderr, "seam: internal error: %s\n", e.what());
    return 70;
  }
  return exit_code;
}
