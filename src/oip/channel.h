// The one place seam opens a gRPC channel to an OIP server (a tier's next hop, the device's edge,
// the link probe), so that every client of the protocol dials the same way: message limits,
// quick reconnects after a server restart, keepalive to find a silently dead link.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <memory>
#include <string>

namespace seam::oip {

struct ChannelOptions {
  int max_message_bytes = 64 << 20;  // as seam serve's default --max-message-mb
  // Ping an idle connection this often (seam serve accepts pings this often); 0 disables.
  int keepalive_ms = 10000;
  // TLS and its expected server name (oip/hop_security.h, HopCredentials); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  std::string server_name;  // "" = the address's host
};

// Does not connect: gRPC connects on first use (or WaitForConnected).
std::shared_ptr<grpc::Channel> OpenChannel(const std::string& address,
                                           const ChannelOptions& options = {});

}  // namespace seam::oip
