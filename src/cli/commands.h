// The `seam` subcommands. Each parses nothing itself: main.cc fills the options from flags; each
// command wires the layers together and returns the process exit code (0 on success). Errors are
// printed by ReportError as one line on stderr.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace seam::cli {

struct AnalyzeOptions {
  std::string model;
  std::vector<std::string> shapes;  // NAME=D0,D1,...
  bool json = false;
};

struct SplitOptions {
  std::string model;
  // Boundaries in the order given: each is either "at:" + comma-separated tensor names or
  // "after:" + a node name.
  std::vector<std::string> boundaries;
  std::string output_dir;
  bool external_data = false;
};

struct VerifyOptions {
  std::string model;
  std::string split_dir;
  int runs = 3;
  uint64_t seed = 1;
};

int RunAnalyze(const AnalyzeOptions& options);
int RunSplit(const SplitOptions& options);
int RunVerify(const VerifyOptions& options);

// Prints "seam: error: <message>" and returns the exit code for the status (1).
int ReportError(const Status& status);

}  // namespace seam::cli
