// Store-and-forward under faults (docs/cascade.md), on loopback: `seam cascade run --outbox`
// sends 1,000 Fashion-MNIST test images through a cascade whose rule hands (almost) every one
// to the big model on a `seam serve` child that keeps its answers (--idempotency-db). The big
// model's server is killed (-9) while the sender runs, so hard examples queue in the outbox;
// it is restarted, the sender starts delivering, and the sender is killed (-9) in the middle of
// delivering; a second sender on the same outbox finishes. Every hand-off is answered by the big
// model exactly once, in the order of the examples; what the sender re-sent was replayed from
// the server's store, not run again.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cascade/idx_dataset.h"
#include "tests/server_process.h"
#include "tests/support/run_seam.h"

extern char** environ;

namespace seam::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

const std::string kModels = std::string(SEAM_SOURCE_DIR) + "/models/fashion";
constexpr int kItems = 1000;

// One query's single integer over a SQLite file opened read-only (its writer keeps going: WAL).
int64_t Count(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  int64_t n = -1;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 2000);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return n;
}

// The keys the server answered, in the order it first answered them.
std::vector<std::string> AnsweredKeys(const std::string& path) {
  std::vector<std::string> keys;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT key FROM answers ORDER BY seq", -1, &stmt, nullptr) ==
        SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        keys.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
      }
    }
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return keys;
}

// `seam ARGS...` in the background, its output in `log`.
pid_t Spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {SEAM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& a : argv) raw.push_back(a.data());
  raw.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, raw[0], &actions, nullptr, raw.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

// Waits until `ready` or `timeout`; returns whether it became ready.
bool WaitFor(const std::function<bool()>& ready, std::chrono::seconds timeout) {
  const auto until = Clock::now() + timeout;
  while (Clock::now() < until) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ready();
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The big model's server (keeping its answers in keys.db, so that it survives kill -9) and a
// cascade whose rule (max probability >= 1) hands every image below certainty to it.
class StoreForwardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(std::string(cascade::kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
      GTEST_SKIP()
          << "Debian's dataset-fashion-mnist is not installed (scripts/setup.sh installs it)";
    }
    repo_.AddVersion("fashion_big", 1, kModels + "/repo/fashion_big/1/model.onnx");
    dir_ = scratch_.root();
    keys_ = dir_ + "/keys.db";
    outbox_ = dir_ + "/outbox.db";
    cloud_ = Serve(0);
    ASSERT_TRUE(cloud_);
    port_ = cloud_->port();
    cascade_ = dir_ + "/cascade.json";
    std::ofstream(cascade_) << json{
        {"name", "sf"},
        {"small", {{"model", kModels + "/fashion_small.onnx"}}},
        {"big", {{"address", cloud_->address()}, {"model", "fashion_big"}, {"version", 1}}},
        {"send", "input"},
        {"rule", {{"kind", "max_probability"}, {"output", "logits"}, {"threshold", 1.0}}},
        {"deadline_ms", 2000}}.dump(1);
  }
  // `seam serve` of the big model on `port` (0: a free one).
  std::unique_ptr<ServerProcess> Serve(int port) {
    std::string error;
    auto server =
        ServerProcess::Start({"--repo", repo_.root(), "--http-port", "-1", "--log-level", "error",
                              "--grpc-port", std::to_string(port), "--idempotency-db", keys_},
                             &error);
    EXPECT_TRUE(server) << error;
    return server;
  }
  // Kills the big model's server (-9): the uplink is down.
  void Down() {
    ASSERT_EQ(::kill(cloud_->pid(), SIGKILL), 0);
    cloud_.reset();
  }
  void Up() {
    cloud_ = Serve(port_);
    ASSERT_TRUE(cloud_);
  }
  int64_t Answered() { return Count(keys_, "SELECT COUNT(*) FROM answers"); }
  // Whether the server first answered the keys in the order of the examples (their last field).
  bool AnsweredInOrder(int64_t* last) {
    int64_t previous = -1;
    bool in_order = true;
    for (const std::string& key : AnsweredKeys(keys_)) {
      const int64_t index = std::stoll(key.substr(key.rfind(':') + 1));
      in_order = in_order && index > previous;
      previous = index;
    }
    *last = previous;
    return in_order;
  }

  TestRepository repo_, scratch_;
  std::string dir_, keys_, outbox_, cascade_;
  std::unique_ptr<ServerProcess> cloud_;
  int port_ = 0;
};

TEST_F(StoreForwardTest, ThousandItemsDeliveredOnceInOrderThroughAnOutageAndASenderKill) {
  const std::string &dir = dir_, &outbox = outbox_, &cascade = cascade_;
  const std::vector<std::string> run = {
      "cascade",  "run",  "--cascade", cascade, "--range", "0:" + std::to_string(kItems),
      "--outbox", outbox, "--drain-s", "60",    "--json"};
  auto answered = [&] { return Answered(); };
  auto queued = [&] { return Count(outbox, "SELECT COUNT(*) FROM items"); };

  // Sender A; the uplink goes down (the big model's server is killed) once it has begun.
  auto args_a = run;
  args_a.push_back(dir + "/a.json");
  const pid_t a = Spawn(args_a, dir + "/a.log");
  ASSERT_GT(a, 0);
  ASSERT_TRUE(WaitFor([&] { return answered() >= 30; }, std::chrono::seconds(30)))
      << ReadAll(dir + "/a.log");
  Down();
  const int64_t before_outage = answered();
  // Hard examples queue while it is down.
  ASSERT_TRUE(WaitFor([&] { return queued() >= 300; }, std::chrono::seconds(30)))
      << "queued " << queued() << "\n"
      << ReadAll(dir + "/a.log");
  // The uplink returns; A delivers; A is killed in the middle of it.
  Up();
  ASSERT_TRUE(WaitFor([&] { return answered() >= before_outage + 100; }, std::chrono::seconds(30)))
      << ReadAll(dir + "/a.log");
  ASSERT_EQ(::kill(a, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(a, &status, 0), a);
  ASSERT_TRUE(WIFSIGNALED(status)) << "sender A ended before it was killed:\n"
                                   << ReadAll(dir + "/a.log");
  const int64_t left_by_a = queued(), answered_at_kill = answered();

  // Sender B, the same command on the same outbox: finishes the run and the delivery.
  auto args_b = run;
  args_b.push_back(dir + "/b.json");
  const pid_t b = Spawn(args_b, dir + "/b.log");
  ASSERT_GT(b, 0);
  ASSERT_EQ(::waitpid(b, &status, 0), b);
  const std::string log_b = ReadAll(dir + "/b.log");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << log_b;
  const json summary = json::parse(ReadAll(dir + "/b.json"));
  EXPECT_EQ(summary["outbox_pending"], 0) << log_b;
  EXPECT_EQ(queued(), 0);

  // Exactly once, in order: the keys the big model answered are the examples handed off, each
  // once, in the order of the examples.
  const int64_t handed_off = summary["handed_off"];
  ASSERT_EQ(Answered(), handed_off) << log_b;
  int64_t last = 0;
  EXPECT_TRUE(AnsweredInOrder(&last)) << "the big model saw the examples out of order";
  std::printf(
      "[store-forward] %d items, %lld handed off; %lld answered before the outage, %lld queued "
      "in all; sender A killed with %lld answered and %lld still queued; sender B: %s",
      kItems, static_cast<long long>(handed_off), static_cast<long long>(before_outage),
      static_cast<long long>(Count(outbox, "SELECT value FROM counters WHERE name = 'enqueued'")),
      static_cast<long long>(answered_at_kill), static_cast<long long>(left_by_a),
      log_b.substr(0, log_b.find('\n') + 1).c_str());
  EXPECT_GT(left_by_a, 0);
  EXPECT_LT(answered_at_kill, handed_off);
  // A delivered some after the outage; B (the same run, resumed) queued them again, and the
  // server answered them from its store instead of running them twice.
  EXPECT_GT(summary["outbox"]["replayed"].get<int64_t>(), 0) << log_b;
}

// A site whose uplink is down when it starts: the outbox kept the big model's metadata from an
// earlier run, so the cascade starts, answers from the small model and queues the hard examples;
// a later run delivers them, in order. An outbox that never saw the server cannot start offline.
TEST_F(StoreForwardTest, ASiteStartsOfflineFromWhatItsOutboxKept) {
  const std::string &dir = dir_, &outbox = outbox_;
  auto run = [&](const std::string& range, const std::string& box, const std::string& drain,
                 const std::string& json_file) {
    return RunSeam("cascade run --cascade " + cascade_ + " --range " + range + " --outbox " + box +
                   " --drain-s " + drain + " --connect-timeout-s 1 --json " + json_file);
  };
  const Outcome first = run("0:10", outbox, "10", dir + "/1.json");
  ASSERT_EQ(first.exit_code, 0) << first.output;

  Down();
  const Outcome offline = run("10:60", outbox, "0", dir + "/2.json");
  ASSERT_EQ(offline.exit_code, 0) << offline.output;
  EXPECT_NE(offline.output.find("is unreachable: started from the metadata"), std::string::npos)
      << offline.output;
  const json second = json::parse(ReadAll(dir + "/2.json"));
  EXPECT_EQ(second["queued"], second["handed_off"]) << offline.output;
  EXPECT_EQ(second["outbox"]["pending"], second["handed_off"]) << offline.output;
  EXPECT_GT(second["handed_off"].get<int64_t>(), 40);
  // Never reached: nothing to start from, said so.
  const Outcome fresh = run("0:5", dir + "/fresh.db", "0", dir + "/3.json");
  EXPECT_NE(fresh.exit_code, 0);
  EXPECT_NE(fresh.output.find("starting offline needs the big model's metadata"), std::string::npos)
      << fresh.output;

  Up();
  const Outcome back = run("60:70", outbox, "30", dir + "/4.json");
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_EQ(json::parse(ReadAll(dir + "/4.json"))["outbox"]["pending"], 0) << back.output;
  int64_t last = 0;
  EXPECT_TRUE(AnsweredInOrder(&last));
  EXPECT_EQ(last, 69);
}

}  // namespace
}  // namespace seam::testing
