#include "oip/hop_security.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace seam::oip {
namespace {

class HopSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("seam_hop_security_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    ::unsetenv("SEAM_TEST_HOP_TOKEN");
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

std::string Message(const Status& status) { return status.message(); }

TEST_F(HopSecurityTest, ATokenComesFromAFileOrTheEnvironmentTrimmed) {
  const std::string file = Write("token", "  s3cret-token\n");
  auto from_file = LoadHopCredentials({.token = "file:" + file}, "the hop to cloud");
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->authorization, "Bearer s3cret-token");
  EXPECT_FALSE(from_file->tls);
  // A bare value where a token's source belongs may be the token itself: refused, not echoed.
  auto bare = LoadHopCredentials({.token = "s3cret-token"}, "the hop to cloud");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(Message(bare.status()),
            "the hop to cloud: the token: give where it is, file:PATH or env:NAME, not a bare "
            "value");
  ::setenv("SEAM_TEST_HOP_TOKEN", "from-env", 1);
  auto credentials = LoadHopCredentials({.token = "env:SEAM_TEST_HOP_TOKEN"}, "the hop to cloud");
  ASSERT_TRUE(credentials.ok()) << credentials.status().ToString();
  EXPECT_EQ(credentials->authorization, "Bearer from-env");
  auto none = LoadHopCredentials({}, "the hop to cloud");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->authorization, "");
}

TEST_F(HopSecurityTest, AnUnreadableSecretIsNamedWithItsSource) {
  auto missing = LoadHopCredentials({.token = "file:/nonexistent/token"}, "the hop to cloud");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(Message(missing.status()),
            "the hop to cloud: the token: cannot read /nonexistent/token: No such file or "
            "directory");
  auto unset = LoadHopCredentials({.token = "env:SEAM_TEST_HOP_TOKEN"}, "the hop to edge");
  ASSERT_FALSE(unset.ok());
  EXPECT_EQ(Message(unset.status()),
            "the hop to edge: the token: the environment variable SEAM_TEST_HOP_TOKEN is not set");
  ::setenv("SEAM_TEST_HOP_TOKEN", "", 1);
  auto empty = LoadHopCredentials({.token = "env:SEAM_TEST_HOP_TOKEN"}, "the hop to edge");
  EXPECT_NE(Message(empty.status()).find("SEAM_TEST_HOP_TOKEN is empty"), std::string::npos);
  auto empty_file = LoadHopCredentials({.token = "file:" + Write("empty", "")}, "h");
  EXPECT_NE(Message(empty_file.status()).find("is empty"), std::string::npos);
  auto blank = LoadHopCredentials({.token = "file:" + Write("blank", " \n")}, "h");
  EXPECT_NE(Message(blank.status()).find("holds only spaces"), std::string::npos);
  auto directory = LoadHopCredentials({.token = "file:" + dir_.string()}, "h");
  EXPECT_NE(Message(directory.status()).find("is not a regular file"), std::string::npos);
  auto two = LoadHopCredentials({.token = "file:" + Write("two", "one two\n")}, "h");
  EXPECT_NE(Message(two.status()).find("whitespace or a non-ASCII character inside"),
            std::string::npos);
  auto no_name = LoadHopCredentials({.token = "env:"}, "h");
  EXPECT_EQ(Message(no_name.status()),
            "h: the token: 'env:' names no environment variable "
            "(env:NAME)");
}

TEST_F(HopSecurityTest, FieldsThatNeedEachOtherAreChecked) {
  EXPECT_EQ(Message(Validate({.ca = "ca.pem", .cert = "c.pem"}, "w")),
            "w: a client certificate needs its key and a key its certificate (give both or "
            "neither)");
  EXPECT_NE(Message(Validate({.cert = "c.pem", .key = "file:k.pem"}, "w")).find("needs TLS"),
            std::string::npos);
  EXPECT_NE(Message(Validate({.server_name = "cloud"}, "w")).find("only with TLS"),
            std::string::npos);
  EXPECT_NE(Message(Validate({.ca = "ca.pem", .cert = "system", .key = "file:k"}, "w"))
                .find("'system' names the system's CA"),
            std::string::npos);
  EXPECT_TRUE(Validate({.ca = "system", .token = "env:X"}, "w").ok());
  EXPECT_TRUE(
      Validate({.ca = "ca.pem", .cert = "c.pem", .key = "file:k.pem", .server_name = "s"}, "w")
          .ok());
}

TEST_F(HopSecurityTest, ACaThatIsNotPemIsRefusedBeforeAnyHandshake) {
  auto credentials = LoadHopCredentials({.ca = Write("ca.pem", "not a certificate\n")}, "h");
  ASSERT_FALSE(credentials.ok());
  EXPECT_NE(Message(credentials.status()).find("holds no PEM certificate"), std::string::npos);
  auto system = LoadHopCredentials({.ca = "system"}, "h");
  ASSERT_TRUE(system.ok()) << system.status().ToString();
  EXPECT_TRUE(system->tls);
}

TEST_F(HopSecurityTest, AnOverlayKeepsWhatItDoesNotNameAndFilesResolveAgainstADirectory) {
  const HopSecurity deployed{.ca = "/etc/seam/ca.pem", .token = "env:DEPLOYED"};
  const HopSecurity mine = Overlay(deployed, {.token = "file:/home/me/token"});
  EXPECT_EQ(mine.ca, "/etc/seam/ca.pem");
  EXPECT_EQ(mine.token, "file:/home/me/token");
  const HopSecurity relative{.ca = "certs/ca.pem", .key = "file:k.pem", .token = "env:T"};
  const HopSecurity resolved = ResolveFiles(relative, "/site");
  EXPECT_EQ(resolved.ca, "/site/certs/ca.pem");
  EXPECT_EQ(resolved.key, "file:/site/k.pem");
  EXPECT_EQ(resolved.token, "env:T");
  EXPECT_EQ(Message(RequireAbsoluteFiles(relative, "the hop to cloud")),
            "the hop to cloud: the CA certs/ca.pem: give an absolute path (the tier that dials "
            "reads it from its own working directory)");
  EXPECT_TRUE(RequireAbsoluteFiles(resolved, "w").ok());
  EXPECT_FALSE(HopSecurity{.server_name = "cloud"}.empty());
}

}  // namespace
}  // namespace seam::oip
