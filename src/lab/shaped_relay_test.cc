// ShapedRelay with real sockets on 127.0.0.1: an echo server behind the relay. Timing checks use
// lower bounds (a delay or a rate cannot be beaten) and only very generous upper bounds, because
// the machine may be busy with other work.
#include "lab/shaped_relay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace seam::lab {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Echoes every connection until its client ends the stream, then ends its own.
class EchoServer {
 public:
  EchoServer() {
    auto fd = ListenTcp({"127.0.0.1", 0});
    EXPECT_TRUE(fd.ok()) << fd.status().ToString();
    fd_ = *fd;
    port_ = *BoundPort(fd_);
    thread_ = std::thread([this] {
      while (true) {
        const int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;  // the listener was shut down
        connections_.emplace_back([c] {
          std::vector<char> buffer(64 << 10);
          ssize_t n;
          while ((n = recv(c, buffer.data(), buffer.size(), 0)) > 0) {
            for (ssize_t off = 0; off < n;) {
              const ssize_t w = send(c, buffer.data() + off, n - off, MSG_NOSIGNAL);
              if (w <= 0) break;
              off += w;
            }
          }
          shutdown(c, SHUT_WR);
          close(c);
        });
      }
    });
  }
  ~EchoServer() {
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    for (auto& t : connections_) t.join();
    close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::vector<std::thread> connections_;
};

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0) << std::strerror(errno);
  SetNoDelay(fd);
  const timeval timeout{.tv_sec = 10, .tv_usec = 0};  // no test hangs on a relay bug
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

void SendAll(int fd, const std::string& data) {
  for (size_t off = 0; off < data.size();) {
    const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << std::strerror(errno);
    off += static_cast<size_t>(n);
  }
}

// Reads until `size` bytes or the end of stream.
std::string Receive(int fd, size_t size) {
  std::string out;
  std::vector<char> buffer(64 << 10);
  while (out.size() < size) {
    const ssize_t n = recv(fd, buffer.data(), std::min(buffer.size(), size - out.size()), 0);
    if (n <= 0) break;
    out.append(buffer.data(), static_cast<size_t>(n));
  }
  return out;
}

std::string RandomBytes(size_t size) {
  std::mt19937 rng(42);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Sends `data` (from another thread, so that sending and echoing overlap), ends the stream and
// reads everything until the server ends its stream.
std::string EchoThrough(int port, const std::string& data) {
  const int fd = Connect(port);
  std::thread sender([&] {
    SendAll(fd, data);
    shutdown(fd, SHUT_WR);
  });
  std::string echoed = Receive(fd, data.size() + 1);  // +1: also waits for the end of stream
  sender.join();
  close(fd);
  return echoed;
}

// The shortest of a few one-byte round trips on one connection, in ms.
double RoundTripMs(int fd, int trips = 3) {
  double best = 1e9;
  for (int i = 0; i < trips; ++i) {
    const auto start = Clock::now();
    SendAll(fd, "x");
    if (Receive(fd, 1) != "x") return -1;
    best = std::min(best, SecondsSince(start) * 1e3);
  }
  return best;
}

std::unique_ptr<ShapedRelay> StartRelay(int target_port, LinkShape up = {}, LinkShape down = {}) {
  auto relay = ShapedRelay::Start(
      {.listen = {"127.0.0.1", 0}, .target = {"127.0.0.1", target_port}, .up = up, .down = down});
  EXPECT_TRUE(relay.ok()) << relay.status().ToString();
  return relay.ok() ? std::move(relay).value() : nullptr;
}

TEST(ShapedRelayTest, BytesArriveIntactBothWays) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.delay_ms = 2}, {.delay_ms = 2});
  ASSERT_NE(relay, nullptr);
  EXPECT_GT(relay->port(), 0);
  const std::string payload = RandomBytes(1 << 20);
  EXPECT_TRUE(EchoThrough(relay->port(), payload) == payload);  // and then the end of stream
}

TEST(ShapedRelayTest, ManyConcurrentConnections) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.rate_bps = 200e6, .delay_ms = 1}, {.delay_ms = 1});
  ASSERT_NE(relay, nullptr);
  const std::string payload = RandomBytes(64 << 10);
  std::vector<std::thread> clients;
  std::atomic<int> intact{0};
  for (int i = 0; i < 24; ++i) {
    clients.emplace_back([&] { intact += EchoThrough(relay->port(), payload) == payload; });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(intact.load(), 24);
}

TEST(ShapedRelayTest, DelayIsAddedEachWay) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.delay_ms = 40}, {.delay_ms = 40});
  ASSERT_NE(relay, nullptr);
  const int fd = Connect(relay->port());
  const double rtt = RoundTripMs(fd);
  EXPECT_GE(rtt, 80);
  EXPECT_LT(rtt, 800);
  close(fd);
}

TEST(ShapedRelayTest, RateLimitsThroughput) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.rate_bps = 8e6}, {});  // 1 MB takes 1.05 s up
  ASSERT_NE(relay, nullptr);
  const std::string payload = RandomBytes(1 << 20);
  const auto start = Clock::now();
  EXPECT_TRUE(EchoThrough(relay->port(), payload) == payload);
  const double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 0.9);
  EXPECT_LT(seconds, 10.5);
}

// Delay is pipelined: 2 MiB at 80 Mbit/s with 50 ms each way takes about 0.2 s + 0.1 s. A relay
// that held each chunk for the delay before reading the next would take over 10 s.
TEST(ShapedRelayTest, DelayDoesNotLowerThroughput) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.rate_bps = 80e6, .delay_ms = 50}, {.delay_ms = 50});
  ASSERT_NE(relay, nullptr);
  const std::string payload = RandomBytes(2 << 20);
  const auto start = Clock::now();
  EXPECT_TRUE(EchoThrough(relay->port(), payload) == payload);
  const double seconds = SecondsSince(start);
  EXPECT_GE(seconds, 0.2 + 0.1 - 0.02);
  EXPECT_LT(seconds, 3);
}

TEST(ShapedRelayTest, SetLinkTakesEffectOnOpenConnections) {
  EchoServer echo;
  auto relay = StartRelay(echo.port());
  ASSERT_NE(relay, nullptr);
  const int fd = Connect(relay->port());
  EXPECT_LT(RoundTripMs(fd), 100);
  ASSERT_TRUE(relay->SetLink({.delay_ms = 60}, {.delay_ms = 60}).ok());
  EXPECT_EQ(relay->up().delay_ms, 60);
  EXPECT_GE(RoundTripMs(fd), 120);
  ASSERT_TRUE(relay->SetLink({}, {}).ok());
  EXPECT_LT(RoundTripMs(fd), 100);
  EXPECT_EQ(relay->SetLink({.rate_bps = -1}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(relay->up().rate_bps, 0);  // unchanged
  close(fd);
}

TEST(ShapedRelayTest, DeadTargetClosesTheClient) {
  int dead_port = 0;
  {
    EchoServer gone;  // a port that was free a moment ago and has no listener now
    dead_port = gone.port();
  }
  std::atomic<int> errors{0};
  std::string message;
  std::mutex mutex;
  auto relay = ShapedRelay::Start({.listen = {"127.0.0.1", 0},
                                   .target = {"127.0.0.1", dead_port},
                                   .on_connect_error = [&](const Status& s) {
                                     std::lock_guard lock(mutex);
                                     message = s.message();
                                     ++errors;
                                   }});
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();
  const int fd = Connect((*relay)->port());
  const auto start = Clock::now();
  char byte;
  const ssize_t n = recv(fd, &byte, 1, 0);
  EXPECT_TRUE(n == 0 || (n < 0 && errno == ECONNRESET)) << "recv: " << n << " " << errno;
  EXPECT_LT(SecondsSince(start), 5);
  close(fd);
  (*relay)->Stop();
  EXPECT_EQ(errors.load(), 1);
  EXPECT_NE(message.find("cannot connect to target 127.0.0.1:" + std::to_string(dead_port)),
            std::string::npos)
      << message;
}

TEST(ShapedRelayTest, StopWithOpenConnectionsReturns) {
  EchoServer echo;
  auto relay = StartRelay(echo.port(), {.delay_ms = 5}, {.delay_ms = 5});
  ASSERT_NE(relay, nullptr);
  std::vector<int> fds;
  for (int i = 0; i < 8; ++i) {
    fds.push_back(Connect(relay->port()));
    EXPECT_GT(RoundTripMs(fds.back(), 1), 0);
  }
  EXPECT_EQ(relay->active_connections(), 8);
  const auto start = Clock::now();
  relay->Stop();
  EXPECT_LT(SecondsSince(start), 3);
  EXPECT_EQ(relay->active_connections(), 0);
  for (int fd : fds) {
    char byte;
    EXPECT_LE(recv(fd, &byte, 1, 0), 0);  // closed, not hanging
    close(fd);
  }
  relay->Stop();  // idempotent
}

TEST(ShapedRelayTest, StartErrorsSayWhatIsWrong) {
  EchoServer echo;
  auto first = StartRelay(echo.port());
  ASSERT_NE(first, nullptr);
  auto in_use = ShapedRelay::Start(
      {.listen = {"127.0.0.1", first->port()}, .target = {"127.0.0.1", echo.port()}});
  ASSERT_FALSE(in_use.ok());
  EXPECT_EQ(in_use.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(in_use.status().message().find("in use"), std::string::npos)
      << in_use.status().message();

  auto bad_host = ShapedRelay::Start(
      {.listen = {"127.0.0.1", 0}, .target = {"no-such-host.invalid", echo.port()}});
  ASSERT_FALSE(bad_host.ok());
  EXPECT_EQ(bad_host.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_host.status().message().find("cannot resolve host 'no-such-host.invalid'"),
            std::string::npos)
      << bad_host.status().message();

  auto not_local = ShapedRelay::Start(
      {.listen = {"192.0.2.1", 0}, .target = {"127.0.0.1", echo.port()}});  // TEST-NET-1
  ASSERT_FALSE(not_local.ok());
  EXPECT_NE(not_local.status().message().find("not an address of this host"), std::string::npos)
      << not_local.status().message();

  auto bad_shape = ShapedRelay::Start(
      {.listen = {"127.0.0.1", 0}, .target = {"127.0.0.1", echo.port()}, .down = {.delay_ms = -5}});
  EXPECT_EQ(bad_shape.status().code(), StatusCode::kInvalidArgument);
}

TEST(HostPortTest, ParsesAndRejects) {
  auto v4 = ParseHostPort("10.77.1.2:9000");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "10.77.1.2");
  EXPECT_EQ(v4->port, 9000);
  auto v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->ToString(), "[::1]:0");
  EXPECT_EQ(ParseHostPort("localhost:8001")->ToString(), "localhost:8001");
  for (const char* bad : {"", "9000", ":9000", "host:", "host:70000", "host:-1", "host:80x",
                          "::1:80", "[::1]80", "[::1]"}) {
    auto parsed = ParseHostPort(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace seam::lab
