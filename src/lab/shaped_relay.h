// ShapedRelay: a TCP relay that makes a loopback or LAN hop behave like a slower, longer network
// link, so that seam's tiers can be tested and benchmarked on one machine (docs: scripts/netlab.sh
// builds the three-host lab around it; `seam relay` runs it from the command line).
//
// It listens on one address and, for each accepted connection, connects to the target and copies
// bytes both ways. Each direction is a link: bytes are serialised at the direction's rate (a token
// bucket with a small burst, shared by all connections in that direction, as flows share a real
// link), then held for the one-way delay. The delay is pipelined, so it adds latency but does not
// lower throughput. "Up" is client -> target, "down" is target -> client.
//
// Ownership and threads: the relay owns its listening socket, one accept thread and one thread per
// connection. Every method is thread-safe. Stop() (also run by the destructor) closes the listener
// and all connections and joins all threads; it returns promptly with connections open.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/status.h"
#include "lab/host_port.h"
#include "lab/link_shaper.h"

namespace seam::lab {

struct RelayOptions {
  HostPort listen;                // port 0: a free port, see ShapedRelay::port()
  HostPort target;                // resolved once, when the relay starts
  LinkShape up;                   // client -> target
  LinkShape down;                 // target -> client
  double connect_timeout_s = 10;  // per accepted connection; the client is reset on failure
  // Called, from a connection's thread, each time the target cannot be reached. May be empty.
  std::function<void(const Status&)> on_connect_error;
};

class ShapedRelay {
 public:
  // Binds, listens and starts accepting. INVALID_ARGUMENT for an address that does not resolve or
  // a bad link shape; UNAVAILABLE when the listen port is in use.
  static Result<std::unique_ptr<ShapedRelay>> Start(RelayOptions options);

  ~ShapedRelay();
  ShapedRelay(const ShapedRelay&) = delete;
  ShapedRelay& operator=(const ShapedRelay&) = delete;

  // The port actually listened on (the kernel's choice when options.listen.port was 0).
  int port() const { return port_; }
  // options.listen with the actual port.
  HostPort listen_address() const { return {options_.listen.host, port_}; }

  // Changes both directions at run time; chunks read from then on see the new shape (a new rate
  // starts with an empty bucket). INVALID_ARGUMENT, and nothing changes, for a bad shape.
  Status SetLink(const LinkShape& up, const LinkShape& down);
  LinkShape up() const { return up_.Get(); }
  LinkShape down() const { return down_.Get(); }

  // Bytes relayed so far in each direction (over every connection).
  uint64_t up_bytes() const { return up_.bytes(); }
  uint64_t down_bytes() const { return down_.bytes(); }

  // Connections open now.
  int active_connections() const { return active_.load(); }

  // Closes the listener and every connection, joins all threads. Idempotent.
  void Stop();

 private:
  struct Connection {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  ShapedRelay(RelayOptions options, std::vector<SocketAddress> target, int listen_fd, int port,
              int stop_fd);
  void AcceptLoop();
  void ReapFinished();  // joins connections that have ended; accept thread only

  const RelayOptions options_;
  const std::vector<SocketAddress> target_;
  const int listen_fd_;
  const int port_;
  const int stop_fd_;  // eventfd, readable once Stop() begins: wakes every thread's ppoll
  LinkShaper up_;
  LinkShaper down_;
  std::atomic<int> active_{0};
  std::list<Connection> connections_;  // the accept thread's, until Stop() has joined it
  std::thread accept_thread_;
  std::mutex stop_mutex_;
  bool stopped_ = false;
};

}  // namespace seam::lab
