// HOST:PORT addresses as users write them, and the socket calls that turn them into listening and
// connected sockets with errors a user can act on. Thread-safe (no shared state).
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace seam::lab {

struct HostPort {
  std::string host;  // a name or a literal address, IPv6 without brackets
  int port = 0;      // 0..65535; 0 asks the kernel for a free port when listening

  // "host:port", or "[v6]:port" for an IPv6 literal.
  std::string ToString() const;
};

// Parses "HOST:PORT", "[V6]:PORT". The host must not be empty; the port is 0..65535.
Result<HostPort> ParseHostPort(const std::string& text);

// A resolved socket address (one of possibly several for a name).
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
};

// All TCP addresses of `address` (getaddrinfo), in the resolver's order. `role` names the address
// in errors, e.g. "target".
Result<std::vector<SocketAddress>> ResolveTcp(const HostPort& address, const std::string& role,
                                              bool passive);

// A listening TCP socket (close-on-exec, SO_REUSEADDR) bound to `address`. Errors say when the port
// is in use, when the host is not an address of this machine, and when the port needs root.
Result<int> ListenTcp(const HostPort& address);

// The local port a socket is bound to.
Result<int> BoundPort(int fd);

// Sets TCP_NODELAY: a relay must not add Nagle's delay to the one it emulates.
void SetNoDelay(int fd);

// Closes `fd` so that the peer sees a reset (RST) rather than an orderly end of stream.
void CloseWithReset(int fd);

}  // namespace seam::lab
