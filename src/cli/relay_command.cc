// `seam relay --listen HOST:PORT --to HOST:PORT [--delay-ms D] [--rate RATE]`: a TCP relay that
// emulates a network link (lab/shaped_relay.h), for tests and benchmarks on one machine or in the
// network-namespace lab of scripts/netlab.sh. The delay is one way and applies in both directions,
// so a round trip through the relay grows by 2 x D.
//
// Prints one line, "relay listening on HOST:PORT -> HOST:PORT", once it is bound (scripts read the
// port from it), then relays until SIGINT or SIGTERM, which it takes with sigwait as `seam serve`
// does, closes every connection and exits 0.
//
// `--trace FILE [--window-ms W]` replays a link trace in the Mahimahi format (lab/link_trace.h) on
// the up direction (client -> target, an uplink trace), one rate per window, looping as Mahimahi
// does; the down direction keeps --rate / --down-rate. SIGUSR1 starts the trace over, so that a
// caller can line it up with its client's first request.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "lab/link_trace.h"
#include "lab/shaped_relay.h"
#include "plan/link.h"

namespace seam::cli {
namespace {

struct RelayCommandOptions {
  std::string listen;
  std::string to;
  double delay_ms = 0;
  std::string rate;  // both directions unless --up-rate / --down-rate say otherwise
  std::string up_rate;
  std::string down_rate;
  double connect_timeout_s = 10;
  std::string trace;
  double window_ms = 1000;
};

// The first non-empty of `specific` and `shared`, parsed; empty means unlimited.
Result<double> RateFlag(const std::string& specific, const std::string& shared,
                        const std::string& flag) {
  const std::string& text = specific.empty() ? shared : specific;
  if (text.empty()) return 0.0;
  Result<double> bps = plan::ParseBandwidth(text);
  if (!bps.ok()) return bps.status().WithContext(flag);
  return bps;
}

int RunRelay(const RelayCommandOptions& o) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGUSR1);                   // not a stop: restarts a --trace (below)
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before any thread exists
  // A shell without job control starts background jobs with SIGINT ignored, and an ignored signal
  // is discarded even while blocked: restore the default so that sigwait sees it.
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);

  lab::RelayOptions options;
  auto listen = lab::ParseHostPort(o.listen);
  if (!listen.ok()) return ReportError(listen.status().WithContext("--listen"));
  auto to = lab::ParseHostPort(o.to);
  if (!to.ok()) return ReportError(to.status().WithContext("--to"));
  auto up_rate = RateFlag(o.up_rate, o.rate, o.up_rate.empty() ? "--rate" : "--up-rate");
  if (!up_rate.ok()) return ReportError(up_rate.status());
  auto down_rate = RateFlag(o.down_rate, o.rate, o.down_rate.empty() ? "--rate" : "--down-rate");
  if (!down_rate.ok()) return ReportError(down_rate.status());
  options.listen = *listen;
  options.target = *to;
  options.up = {.rate_bps = *up_rate, .delay_ms = o.delay_ms};
  options.down = {.rate_bps = *down_rate, .delay_ms = o.delay_ms};
  options.connect_timeout_s = o.connect_timeout_s;
  options.on_connect_error = [](const Status& s) {
    std::fprintf(stderr, "seam relay: %s\n", s.message().c_str());
  };

  lab::LinkTrace trace;
  if (!o.trace.empty()) {
    auto read = lab::ReadMahimahi(o.trace);
    if (!read.ok()) return ReportError(read.status().WithContext("--trace"));
    trace = std::move(read).value();
  }
  auto relay = lab::ShapedRelay::Start(std::move(options));
  if (!relay.ok()) return ReportError(relay.status());
  // The trace's rate per window, on the up direction.
  std::atomic<bool> stop{false}, restart{false};
  std::thread replay;
  if (!o.trace.empty()) {
    replay = std::thread([&] {
      auto start = std::chrono::steady_clock::now();
      const auto window = std::chrono::microseconds(static_cast<int64_t>(o.window_ms * 1e3));
      for (int64_t k = 0; !stop.load(); ++k) {
        // SIGUSR1: the trace starts over (a caller lines it up with its client's first request).
        if (restart.exchange(false)) {
          start = std::chrono::steady_clock::now();
          k = 0;
        }
        const lab::LinkShape down = (*relay)->down();
        const double bps = std::max(trace.RateBps(k, static_cast<int64_t>(o.window_ms)), 1e3);
        (void)(*relay)->SetLink({.rate_bps = bps, .delay_ms = o.delay_ms}, down);
        const auto until = start + (k + 1) * window;
        while (!stop.load() && !restart.load() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
  std::printf("relay listening on %s -> %s\n", (*relay)->listen_address().ToString().c_str(),
              to->ToString().c_str());
  std::fflush(stdout);

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0 || signal_number == SIGUSR1) {
    if (signal_number == SIGUSR1) {
      restart = true;
      signal_number = 0;
    }
  }
  stop = true;
  if (replay.joinable()) replay.join();
  (*relay)->Stop();
  return 0;
}

}  // namespace

void RegisterRelayCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RelayCommandOptions>();
  auto* cmd = app.add_subcommand(
      "relay", "relay TCP connections through an emulated link (rate and one-way delay)");
  cmd->add_option("--listen", o->listen, "HOST:PORT to accept on; port 0 picks a free one")
      ->required();
  cmd->add_option("--to", o->to, "HOST:PORT to connect each accepted connection to")->required();
  cmd->add_option("--delay-ms", o->delay_ms,
                  "one-way delay added in each direction, ms (the round trip grows by twice this)")
      ->check(kNonNegative)
      ->capture_default_str();
  cmd->add_option("--rate", o->rate,
                  "rate in each direction: 10mbit, 1gbit, 800kbit or bit/s; unlimited if absent "
                  "or 0");
  cmd->add_option("--up-rate", o->up_rate, "rate from client to target (overrides --rate)");
  cmd->add_option("--down-rate", o->down_rate, "rate from target to client (overrides --rate)");
  cmd->add_option("--connect-timeout-s", o->connect_timeout_s,
                  "give up connecting to the target after this long")
      ->check(kPositive)
      ->capture_default_str();
  cmd->add_option("--trace", o->trace,
                  "replay this Mahimahi link trace (one line per 1500-byte delivery, in ms) on "
                  "the up direction");
  cmd->add_option("--window-ms", o->window_ms, "--trace: one rate per window of this length")
      ->check(CLI::Range(10.0, 600000.0))
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = RunRelay(*o); });
}

}  // namespace seam::cli
