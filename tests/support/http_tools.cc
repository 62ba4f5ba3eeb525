#include "http_tools.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace seam::testing {

ProcessResult RunProcess(const std::vector<std::string>& argv) {
  ProcessResult result;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return result;
  std::vector<std::string> args = argv;
  std::vector<char*> raw;
  for (auto& a : args) raw.push_back(a.data());
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execvp(raw[0], raw.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0) result.output.append(buffer, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string FindProgram(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = dir + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

HttpResult Curl(const std::string& url, const std::vector<std::string>& options,
                const std::string& body) {
  // The status goes last on its own line, after the body; curl's errors go to stderr, which is
  // captured after stdout.
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}"};
  argv.insert(argv.end(), options.begin(), options.end());
  // The body goes through a file: one argument may not exceed 128 KiB.
  std::string body_file;
  if (!body.empty()) {
    static std::atomic<int> counter{0};
    body_file = (std::filesystem::temp_directory_path() /
                 ("seam_curl_body_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                    .string();
    std::ofstream(body_file, std::ios::binary) << body;
    const bool typed = std::any_of(options.begin(), options.end(), [](const std::string& o) {
      return o.rfind("Content-Type:", 0) == 0;
    });
    if (!typed) argv.insert(argv.end(), {"-H", "Content-Type: application/json"});
    argv.insert(argv.end(), {"--data-binary", "@" + body_file});
  }
  argv.push_back(url);
  const ProcessResult run = RunProcess(argv);
  if (!body_file.empty()) std::filesystem::remove(body_file);
  HttpResult result;
  result.curl_exit = run.exit_code;
  if (run.exit_code != 0) {
    result.curl_error = run.output;
    return result;
  }
  const size_t newline = run.output.rfind('\n');
  if (newline == std::string::npos) return result;
  result.body = run.output.substr(0, newline);
  result.status = std::atoi(run.output.c_str() + newline + 1);
  return result;
}

double MetricValue(const std::string& page, const std::string& name,
                   const std::map<std::string, std::string>& labels) {
  std::istringstream lines(page);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#' || line.compare(0, name.size(), name) != 0) continue;
    size_t pos = name.size();
    std::map<std::string, std::string> found;
    if (pos < line.size() && line[pos] == '{') {
      const size_t end = line.find('}', pos);
      if (end == std::string::npos) continue;
      std::string inside = line.substr(pos + 1, end - pos - 1);
      // key="value",key="value" (the values seam exports hold no quotes or commas)
      std::stringstream pairs(inside);
      std::string pair;
      while (std::getline(pairs, pair, ',')) {
        const size_t eq = pair.find('=');
        if (eq == std::string::npos || pair.size() < eq + 3) continue;
        found[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
      }
      pos = end + 1;
    }
    if (pos >= line.size() || line[pos] != ' ') continue;  // a longer metric name
    bool match = true;
    for (const auto& [key, value] : labels) {
      auto it = found.find(key);
      match = match && it != found.end() && it->second == value;
    }
    if (match) return std::strtod(line.c_str() + pos + 1, nullptr);
  }
  return -1;
}

std::string MakeCertificates(const std::string& dir) {
  const std::string d = dir + "/";
  const std::vector<std::string> ec = {
      "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1"};
  auto run = [](std::vector<std::string> argv) -> std::string {
    const ProcessResult r = RunProcess(argv);
    return r.exit_code == 0 ? ""
                            : "openssl failed (" + std::to_string(r.exit_code) + "): " + r.output;
  };
  auto req = [&](std::vector<std::string> tail) {
    std::vector<std::string> argv = {"openssl", "req", "-x509"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(), tail.begin(), tail.end());
    return argv;
  };
  std::string error =
      run(req({"-keyout", d + "server.key", "-out", d + "server.pem", "-subj", "/CN=localhost",
               "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"}));
  if (error.empty()) {
    error = run(req({"-keyout", d + "ca.key", "-out", d + "ca.pem", "-subj", "/CN=seam test CA"}));
  }
  if (error.empty()) {
    std::vector<std::string> argv = {"openssl", "req"};
    argv.insert(argv.end(), ec.begin(), ec.end());
    argv.insert(argv.end(), {"-keyout", d + "client.key", "-out", d + "client.csr", "-subj",
                             "/CN=seam test client"});
    error = run(argv);
  }
  if (error.empty()) {
    error = run({"openssl", "x509", "-req", "-in", d + "client.csr", "-CA", d + "ca.pem", "-CAkey",
                 d + "ca.key", "-CAcreateserial", "-out", d + "client.pem", "-days", "1"});
  }
  if (error.empty()) {
    error = run({"openssl", "genpkey", "-algorithm", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-out", d + "other.key"});
  }
  return error;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace seam::testing
