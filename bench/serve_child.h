// ServeChild: `seam serve` as a child process of a benchmark, on 127.0.0.1 with a port the system
// picks, stopped (SIGTERM, then SIGKILL after a timeout) by Stop or the destructor. The child also
// dies with the benchmark (PR_SET_PDEATHSIG), so an aborted run leaves no server behind.
//
// Not thread-safe: one thread starts and stops it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace seam::bench {

class ServeChild {
 public:
  // Runs `binary serve --host 127.0.0.1 --grpc-port 0 ARGS...` and reads the port from its
  // "grpc listening on HOST:PORT" line (within timeout_s). Its stderr (the logs) goes to
  // `log_path`, or is inherited when empty.
  static Result<std::unique_ptr<ServeChild>> Start(const std::string& binary,
                                                   const std::vector<std::string>& args,
                                                   const std::string& log_path, int timeout_s = 30);
  ~ServeChild();
  ServeChild(const ServeChild&) = delete;
  ServeChild& operator=(const ServeChild&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // SIGTERM, and the exit code (128 + signal if killed, -1 if it had to be SIGKILLed).
  int Stop(int timeout_s = 30);

 private:
  ServeChild() = default;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
};

}  // namespace seam::bench
