// `seam probe HOST:PORT`: a link's round trip and bandwidth, in the form `seam plan --link` takes.
#include <cstdio>

#include "cli/commands.h"
#include "probe/link_probe.h"

namespace seam::cli {
namespace {

struct ProbeCommandOptions {
  std::string address;
  std::string link_name;  // e.g. device-edge: prints a ready --link flag
  probe::ProbeOptions probe;
  double payload_mb = 4;
};

int RunProbe(ProbeCommandOptions o) {
  if (!(o.payload_mb >= 0.1) || o.payload_mb > 512) {
    return ReportError(InvalidArgument("--payload-mb must be between 0.1 and 512"));
  }
  o.probe.large_bytes = static_cast<size_t>(o.payload_mb * (1 << 20));
  if (Status valid = oip::Validate(o.probe.security, "seam probe"); !valid.ok()) {
    return ReportError(valid);
  }
  auto estimate = probe::ProbeLink(o.address, o.probe);
  if (!estimate.ok()) return ReportError(estimate.status());
  std::printf("round trip  %.3f ms (median of %d)\n", estimate->rtt_ms, o.probe.repetitions);
  std::printf("bandwidth   %.1f Mbit/s (upload, median of %d)\n", estimate->bandwidth_bps / 1e6,
              o.probe.repetitions);
  std::printf("--link %s=%s\n", o.link_name.empty() ? "A-B" : o.link_name.c_str(),
              estimate->ToLinkSpec().c_str());
  return 0;
}

}  // namespace

void RegisterProbeCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ProbeCommandOptions>();
  auto* cmd = app.add_subcommand("probe", "measure round trip and bandwidth to a seam server");
  cmd->add_option("address", o->address, "HOST:PORT of a running OIP gRPC server")->required();
  cmd->add_option("--link", o->link_name, "name to print the --link flag with, e.g. device-edge");
  cmd->add_option("--repetitions", o->probe.repetitions, "measurements (median)")->check(kPositive);
  cmd->add_option("--payload-mb", o->payload_mb, "size of the bandwidth probe (MiB)");
  cmd->add_option("--timeout-s", o->probe.timeout_s, "give up after this long per call");
  const std::string source = " (file:PATH or env:NAME)";
  cmd->add_option("--ca", o->probe.security.ca,
                  "dial over TLS, verifying the server with this CA" + source + "; 'system'");
  cmd->add_option("--cert", o->probe.security.cert, "client certificate (mutual TLS)" + source);
  cmd->add_option("--key", o->probe.security.key, "client key (mutual TLS)" + source);
  cmd->add_option("--token", o->probe.security.token, "bearer token" + source);
  cmd->add_option("--server-name", o->probe.security.server_name,
                  "the name in the server's certificate, when not the host dialled");
  cmd->callback([o, &exit_code] { exit_code = RunProbe(*o); });
}

}  // namespace seam::cli
