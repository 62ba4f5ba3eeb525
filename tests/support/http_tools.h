// Test support for the HTTP front end and TLS: curl and openssl run as child processes (no shell,
// so JSON bodies and paths need no quoting), and the scrape of a Prometheus text page.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace seam::testing {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed; 127 when it could not be started
  std::string output;  // stdout, then stderr
};

// Runs argv[0] (searched in PATH) with `argv` and waits for it.
ProcessResult RunProcess(const std::vector<std::string>& argv);

// The path of `program` in PATH, or "" when it is not installed.
std::string FindProgram(const std::string& program);

struct HttpResult {
  int curl_exit = -1;  // 0 when curl got an HTTP answer
  int status = 0;      // the HTTP status; 0 when there was none
  std::string body;
  std::string curl_error;  // curl's message when curl_exit != 0
};

// `curl` with `options` (e.g. {"--cacert", "ca.pem"}) on `url`. A non-empty `body` is POSTed, as
// application/json unless `options` set another Content-Type.
HttpResult Curl(const std::string& url, const std::vector<std::string>& options = {},
                const std::string& body = "");

// The value of the sample `name{labels...}` whose labels include `labels`, or -1 if the page has
// no such sample. `labels` as {"model": "cnn", "version": "1"}.
double MetricValue(const std::string& page, const std::string& name,
                   const std::map<std::string, std::string>& labels);

// Certificates made with the openssl command for one test run, in `dir`:
//   server.pem / server.key: self-signed, CN localhost, SAN DNS:localhost and IP:127.0.0.1;
//   ca.pem / ca.key: a client CA; client.pem / client.key: a client certificate it signed;
//   other.key: a key that matches no certificate.
// Empty string on success, else what failed.
std::string MakeCertificates(const std::string& dir);

// The whole file, or "" if unreadable.
std::string ReadFile(const std::string& path);

}  // namespace seam::testing
