#include "lab/relay_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string>

namespace seam::lab {
namespace {

using Clock = LinkShaper::Clock;

// A direction stops reading while this much has been read but not yet delivered: far more than a
// link's bandwidth-delay product (1 Gbit/s x 100 ms = 12.5 MB), so only a receiver that does not
// read reaches it.
constexpr size_t kMaxLineBytes = 32 << 20;

struct Chunk {
  std::vector<char> bytes;
  size_t offset = 0;  // bytes already sent
  Clock::time_point due;
};

struct Direction {
  const char* name = "";  // "up" or "down", for errors
  int src = -1;
  int dst = -1;
  LinkShaper* shaper = nullptr;
  std::vector<char> buffer;  // reused for every read
  std::deque<Chunk> line;    // read, not yet delivered; due times never decrease
  size_t line_bytes = 0;
  Clock::time_point last_due{};
  Clock::time_point sent{};  // serialisation of the last chunk ends; no reading before
  bool eof = false;          // src ended its stream ...
  Clock::time_point eof_due{};
  bool shut = false;           // ... and that end has been passed on to dst
  bool write_blocked = false;  // dst's send buffer is full: wait for POLLOUT

  bool WantsRead(Clock::time_point now) const {
    return !eof && line_bytes < kMaxLineBytes && now >= sent;
  }
};

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Sends what is due, then passes on the end of stream when it is due and nothing is left.
Status Flush(Direction& d, Clock::time_point now) {
  d.write_blocked = false;
  while (!d.line.empty() && d.line.front().due <= now) {
    Chunk& c = d.line.front();
    const ssize_t n = send(d.dst, c.bytes.data() + c.offset, c.bytes.size() - c.offset,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        d.write_blocked = true;
        return Status::Ok();
      }
      return Unavailable(std::string(d.name) + " " + Errno("send"));
    }
    c.offset += static_cast<size_t>(n);
    d.line_bytes -= static_cast<size_t>(n);
    if (c.offset == c.bytes.size()) d.line.pop_front();
  }
  if (d.eof && !d.shut && d.line.empty() && d.eof_due <= now) {
    shutdown(d.dst, SHUT_WR);  // a peer that is gone shows up as an error on the next call
    d.shut = true;
  }
  return Status::Ok();
}

// Reads one chunk (or the end of stream) into the delay line.
Status Read(Direction& d, Clock::time_point now) {
  d.buffer.resize(d.shaper->ChunkBytes());
  const ssize_t n = recv(d.src, d.buffer.data(), d.buffer.size(), MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Status::Ok();
    return Unavailable(std::string(d.name) + " " + Errno("recv"));
  }
  const LinkShaper::Admission admission = d.shaper->Admit(static_cast<size_t>(n), now);
  d.last_due = std::max(admission.due, d.last_due);
  if (n == 0) {
    d.eof = true;
    d.eof_due = d.last_due;
    return Status::Ok();
  }
  d.sent = admission.sent;
  d.line.push_back({std::vector<char>(d.buffer.begin(), d.buffer.begin() + n), 0, d.last_due});
  d.line_bytes += static_cast<size_t>(n);
  return Status::Ok();
}

// The next time something is to be done without I/O readiness, if any.
std::optional<Clock::time_point> NextWake(const Direction& d, Clock::time_point now) {
  std::optional<Clock::time_point> wake;
  auto consider = [&](Clock::time_point t) {
    if (!wake || t < *wake) wake = t;
  };
  if (!d.eof && d.line_bytes < kMaxLineBytes && d.sent > now) consider(d.sent);
  if (!d.line.empty() && !d.write_blocked) consider(d.line.front().due);
  if (d.eof && !d.shut && d.line.empty()) consider(d.eof_due);
  return wake;
}

timespec ToTimespec(Clock::duration d) {
  const auto ns = std::max<int64_t>(0, std::chrono::nanoseconds(d).count());
  return {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
}

// A non-blocking connect to the first target address that answers, within the timeout. Returns -1
// (and no error) when the relay stops meanwhile.
Result<int> ConnectTarget(const ConnectionContext& context) {
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(context.connect_timeout_s));
  std::string last_error = "no address";
  for (const SocketAddress& a : *context.target) {
    const int fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last_error = Errno("socket");
      continue;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&a.storage), a.length) == 0) return fd;
    if (errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      close(fd);
      continue;
    }
    pollfd fds[2] = {{fd, POLLOUT, 0}, {context.stop_fd, POLLIN, 0}};
    int rc = 0;
    do {
      const timespec timeout = ToTimespec(deadline - Clock::now());
      rc = ppoll(fds, 2, &timeout, nullptr);
    } while (rc < 0 && errno == EINTR);
    if (fds[1].revents != 0) {
      close(fd);
      return -1;
    }
    if (rc == 0) {
      last_error = "no answer within " + std::to_string(context.connect_timeout_s) + " s";
      close(fd);
      break;
    }
    int error = 0;
    socklen_t length = sizeof(error);
    if (rc < 0) error = errno;
    if (rc > 0) getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error == 0) return fd;
    last_error = std::strerror(error);
    close(fd);
  }
  return Unavailable("cannot connect to target " + context.target_name + ": " + last_error);
}

enum class Ending { kGraceful, kFailed, kStopped };

Ending Pump(int client, int server, const ConnectionContext& context) {
  Direction up{.name = "up", .src = client, .dst = server, .shaper = context.up};
  Direction down{.name = "down", .src = server, .dst = client, .shaper = context.down};
  while (true) {
    Clock::time_point now = Clock::now();
    if (!Flush(up, now).ok() || !Flush(down, now).ok()) return Ending::kFailed;
    if (up.shut && down.shut) return Ending::kGraceful;

    const short client_events =
        static_cast<short>((up.WantsRead(now) ? POLLIN : 0) | (down.write_blocked ? POLLOUT : 0));
    const short server_events =
        static_cast<short>((down.WantsRead(now) ? POLLIN : 0) | (up.write_blocked ? POLLOUT : 0));
    pollfd fds[3] = {{context.stop_fd, POLLIN, 0},
                     {client_events != 0 ? client : -1, client_events, 0},
                     {server_events != 0 ? server : -1, server_events, 0}};
    std::optional<Clock::time_point> wake = NextWake(up, now);
    if (auto w = NextWake(down, now); w && (!wake || *w < *wake)) wake = w;
    timespec timeout{};
    if (wake) timeout = ToTimespec(*wake - now);
    if (ppoll(fds, 3, wake ? &timeout : nullptr, nullptr) < 0 && errno != EINTR) {
      return Ending::kFailed;
    }
    if (fds[0].revents != 0) return Ending::kStopped;
    now = Clock::now();
    if ((client_events & POLLIN) && fds[1].revents != 0 && !Read(up, now).ok()) {
      return Ending::kFailed;
    }
    if ((server_events & POLLIN) && fds[2].revents != 0 && !Read(down, now).ok()) {
      return Ending::kFailed;
    }
  }
}

}  // namespace

void RunConnection(int client_fd, const ConnectionContext& context) {
  SetNoDelay(client_fd);
  Result<int> server = ConnectTarget(context);
  if (!server.ok() || *server < 0) {
    if (!server.ok() && context.on_connect_error) context.on_connect_error(server.status());
    CloseWithReset(client_fd);  // the client sees the target as unreachable at once
    return;
  }
  SetNoDelay(*server);
  switch (Pump(client_fd, *server, context)) {
    case Ending::kFailed:  // a reset on one side is passed on to the other
      CloseWithReset(client_fd);
      CloseWithReset(*server);
      break;
    case Ending::kGraceful:
    case Ending::kStopped:
      close(client_fd);
      close(*server);
      break;
  }
}

}  // namespace seam::lab
