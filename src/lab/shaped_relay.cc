#include "lab/shaped_relay.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "lab/relay_connection.h"

namespace seam::lab {

Result<std::unique_ptr<ShapedRelay>> ShapedRelay::Start(RelayOptions options) {
  SEAM_RETURN_IF_ERROR(ValidateLinkShape(options.up, "up link"));
  SEAM_RETURN_IF_ERROR(ValidateLinkShape(options.down, "down link"));
  if (options.target.port <= 0 || options.target.port > 65535) {
    return InvalidArgument("target address " + options.target.ToString() +
                           ": the port must be 1..65535");
  }
  if (!(options.connect_timeout_s > 0)) {
    return InvalidArgument("connect timeout must be positive");
  }
  SEAM_ASSIGN_OR_RETURN(auto target, ResolveTcp(options.target, "target", /*passive=*/false));
  SEAM_ASSIGN_OR_RETURN(const int listen_fd, ListenTcp(options.listen));
  Result<int> port = BoundPort(listen_fd);
  const int stop_fd = eventfd(0, EFD_CLOEXEC);
  if (!port.ok() || stop_fd < 0) {
    close(listen_fd);
    if (!port.ok()) return port.status();
    return Internal(std::string("eventfd: ") + std::strerror(errno));
  }
  return std::unique_ptr<ShapedRelay>(
      new ShapedRelay(std::move(options), std::move(target), listen_fd, *port, stop_fd));
}

ShapedRelay::ShapedRelay(RelayOptions options, std::vector<SocketAddress> target, int listen_fd,
                         int port, int stop_fd)
    : options_(std::move(options)),
      target_(std::move(target)),
      listen_fd_(listen_fd),
      port_(port),
      stop_fd_(stop_fd),
      up_(options_.up),
      down_(options_.down) {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ShapedRelay::~ShapedRelay() {
  Stop();
  close(stop_fd_);
}

Status ShapedRelay::SetLink(const LinkShape& up, const LinkShape& down) {
  SEAM_RETURN_IF_ERROR(ValidateLinkShape(up, "up link"));
  SEAM_RETURN_IF_ERROR(ValidateLinkShape(down, "down link"));
  const auto now = LinkShaper::Clock::now();
  up_.Set(up, now);
  down_.Set(down, now);
  return Status::Ok();
}

void ShapedRelay::Stop() {
  std::lock_guard lock(stop_mutex_);
  if (stopped_) return;
  stopped_ = true;
  const uint64_t one = 1;
  if (write(stop_fd_, &one, sizeof(one)) != sizeof(one)) {
    // An eventfd write fails only on counter overflow, impossible for a single write.
  }
  accept_thread_.join();
  for (Connection& c : connections_) c.thread.join();
  connections_.clear();
  close(listen_fd_);
}

void ShapedRelay::AcceptLoop() {
  // Shared with the connection threads, which outlive this loop until Stop() joins them.
  const auto context = std::make_shared<const ConnectionContext>(
      ConnectionContext{.target = &target_,
                        .target_name = options_.target.ToString(),
                        .connect_timeout_s = options_.connect_timeout_s,
                        .stop_fd = stop_fd_,
                        .up = &up_,
                        .down = &down_,
                        .on_connect_error = options_.on_connect_error});
  while (true) {
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    // The timeout only bounds how long finished connections wait to be joined.
    if (poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    ReapFinished();
    if (fds[1].revents == 0) continue;
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      // Out of descriptors or a connection that was reset before it was accepted: back off a
      // little rather than spin, and keep serving the connections that exist.
      if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) poll(nullptr, 0, 10);
      continue;
    }
    Connection& c = connections_.emplace_back();
    active_.fetch_add(1);
    try {
      c.thread = std::thread([this, client, &c, context] {
        RunConnection(client, *context);
        active_.fetch_sub(1);
        c.done.store(true);
      });
    } catch (const std::system_error&) {  // out of threads: refuse this one, keep the others
      connections_.pop_back();
      active_.fetch_sub(1);
      CloseWithReset(client);
    }
  }
}

void ShapedRelay::ReapFinished() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace seam::lab
