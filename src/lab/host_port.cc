#include "lab/host_port.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace seam::lab {

std::string HostPort::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(const std::string& text) {
  const std::string usage = "address '" + text + "': expected HOST:PORT, e.g. 127.0.0.1:9000";
  HostPort out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return InvalidArgument(usage + " or [::1]:9000");
    }
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return InvalidArgument(usage);
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (out.host.find(':') != std::string::npos) {
      return InvalidArgument(usage + " (write an IPv6 address in brackets: [::1]:9000)");
    }
  }
  if (out.host.empty()) return InvalidArgument(usage + " (the host is empty)");
  char* end = nullptr;
  errno = 0;
  const long value = port.empty() ? -1 : std::strtol(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || errno != 0 || value < 0 || value > 65535) {
    return InvalidArgument("address '" + text + "': port '" + port +
                           "' is not a number from 0 to 65535");
  }
  out.port = static_cast<int>(value);
  return out;
}

Result<std::vector<SocketAddress>> ResolveTcp(const HostPort& address, const std::string& role,
                                              bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  addrinfo* found = nullptr;
  const std::string port = std::to_string(address.port);
  const int rc = getaddrinfo(address.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return InvalidArgument(role + " address " + address.ToString() + ": cannot resolve host '" +
                           address.host + "' (" + gai_strerror(rc) + ")");
  }
  std::vector<SocketAddress> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    SocketAddress s;
    std::memcpy(&s.storage, a->ai_addr, a->ai_addrlen);
    s.length = a->ai_addrlen;
    out.push_back(s);
  }
  freeaddrinfo(found);
  if (out.empty()) {
    return InvalidArgument(role + " address " + address.ToString() + " has no TCP address");
  }
  return out;
}

Result<int> ListenTcp(const HostPort& address) {
  SEAM_ASSIGN_OR_RETURN(auto addresses, ResolveTcp(address, "listen", /*passive=*/true));
  const std::string where = "listen address " + address.ToString();
  int last_errno = 0;
  for (const SocketAddress& a : addresses) {
    const int fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_errno = errno;
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) == 0 &&
        listen(fd, SOMAXCONN) == 0) {
      return fd;
    }
    last_errno = errno;
    close(fd);
  }
  switch (last_errno) {
    case EADDRINUSE:
      return Unavailable(where + ": port " + std::to_string(address.port) +
                         " is in use by another process (pick another port, or 0 for a free one)");
    case EADDRNOTAVAIL:
      return InvalidArgument(where + ": '" + address.host +
                             "' is not an address of this host (or of this network namespace)");
    case EACCES:
      return FailedPrecondition(where + ": ports below 1024 need root (CAP_NET_BIND_SERVICE)");
    default:
      return Unavailable(where + ": " + std::strerror(last_errno));
  }
}

Result<int> BoundPort(int fd) {
  sockaddr_storage s{};
  socklen_t length = sizeof(s);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&s), &length) != 0) {
    return Internal(std::string("getsockname: ") + std::strerror(errno));
  }
  if (s.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&s)->sin_port);
  if (s.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&s)->sin6_port);
  return Internal("getsockname: not an IP socket");
}

void SetNoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void CloseWithReset(int fd) {
  const linger reset{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  close(fd);
}

}  // namespace seam::lab
