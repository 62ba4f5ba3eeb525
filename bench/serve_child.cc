#include "serve_child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace seam::bench {
namespace {

// waitpid with a deadline: the wait status, or -1 on timeout or error.
int WaitFor(pid_t pid, int timeout_s, bool* exited) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  *exited = false;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exited = true;
      return status;
    }
    if (r < 0 || std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<std::unique_ptr<ServeChild>> ServeChild::Start(const std::string& binary,
                                                      const std::vector<std::string>& args,
                                                      const std::string& log_path, int timeout_s) {
  std::vector<std::string> argv_strings = {binary,      "serve",       "--host",
                                           "127.0.0.1", "--grpc-port", "0"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + std::strerror(errno));
  int log_fd = -1;
  if (!log_path.empty()) {
    log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      return Unavailable(log_path + ": " + std::strerror(errno));
    }
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {  // child: only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::dup2(fds[1], STDOUT_FILENO);
    if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (log_fd >= 0) ::close(log_fd);
  if (pid < 0) {
    ::close(fds[0]);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  std::unique_ptr<ServeChild> child(new ServeChild());
  child->pid_ = pid;
  child->stdout_fd_ = fds[0];

  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (out.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    pollfd p{child->stdout_fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) {
      return Unavailable(binary + " serve printed no port within " + std::to_string(timeout_s) +
                         " s");
    }
    char buffer[256];
    const ssize_t n = ::read(child->stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0) {
      return Unavailable(binary + " serve exited before listening" +
                         (log_path.empty() ? "" : " (its log: " + log_path + ")"));
    }
    out.append(buffer, static_cast<size_t>(n));
  }
  const std::string prefix = "grpc listening on 127.0.0.1:";
  if (out.rfind(prefix, 0) != 0) return Internal("unexpected first line from seam serve: " + out);
  child->port_ = std::atoi(out.c_str() + prefix.size());
  return child;
}

ServeChild::~ServeChild() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    bool exited = false;
    WaitFor(pid_, 10, &exited);
  }
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

int ServeChild::Stop(int timeout_s) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  bool exited = false;
  const int status = WaitFor(pid_, timeout_s, &exited);
  if (!exited) {
    ::kill(pid_, SIGKILL);
    WaitFor(pid_, 10, &exited);
    pid_ = -1;
    return -1;
  }
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace seam::bench
