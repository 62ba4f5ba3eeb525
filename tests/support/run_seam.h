// Running the seam executable from a test, as a user would from a shell.
#pragma once

#include <string>

namespace seam::testing {

struct Outcome {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs `seam ARGS` (ARGS as a shell would split them) and waits for it.
Outcome RunSeam(const std::string& args);

}  // namespace seam::testing
