// One relayed TCP connection: the pump that copies bytes client -> target (up) and target ->
// client (down) through the two directions' LinkShapers. Internal to ShapedRelay.
//
// The pump runs on one thread per connection, with non-blocking I/O and ppoll (nanosecond
// timeouts), so each chunk is delivered at its due time whatever the other direction is doing.
// Each direction keeps a FIFO "delay line" of chunks that have been read but are not yet due (or
// not yet accepted by the receiving socket), capped so that a receiver that stops reading pushes
// back on its sender instead of filling memory.
//
// Ending: a peer's end of stream is passed on, after the data before it and the link's delay, as
// shutdown(SHUT_WR) on the other socket; the connection is closed when both directions have ended.
// A reset or error on either socket resets both. The stop eventfd (readable once the relay stops)
// closes both sockets at once.
#pragma once

#include <functional>
#include <vector>

#include "common/status.h"
#include "lab/host_port.h"
#include "lab/link_shaper.h"

namespace seam::lab {

struct ConnectionContext {
  const std::vector<SocketAddress>* target = nullptr;
  std::string target_name;  // for errors
  double connect_timeout_s = 10;
  int stop_fd = -1;
  LinkShaper* up = nullptr;    // client -> target
  LinkShaper* down = nullptr;  // target -> client
  // Called (from this connection's thread) when the target cannot be reached; may be empty.
  std::function<void(const Status&)> on_connect_error;
};

// Connects to the target and pumps until both directions end, an error, or stop. Takes ownership
// of `client_fd` and closes it (with a reset when the target cannot be reached).
void RunConnection(int client_fd, const ConnectionContext& context);

}  // namespace seam::lab
