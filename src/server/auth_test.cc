// The tokens file and the bearer check: comments, trimming, one-line errors naming the file and
// line; missing, malformed, wrong and right credentials.
#include "server/auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace seam::server {
namespace {

class TokenFile {
 public:
  explicit TokenFile(const std::string& text)
      : path_((std::filesystem::temp_directory_path() /
               ("seam_auth_test_" + std::to_string(::getpid()) + "_" + std::to_string(count_++)))
                  .string()) {
    std::ofstream(path_) << text;
  }
  ~TokenFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  static inline int count_ = 0;
  std::string path_;
};

TEST(TokenAuthenticatorTest, ReadsTokensSkippingCommentsAndBlankLines) {
  TokenFile file("# operators\n  alpha-1 \n\n\tbeta/2=\r\n# old: gamma\n");
  auto auth = TokenAuthenticator::FromFile(file.path());
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  EXPECT_EQ(auth->token_count(), 2u);
  EXPECT_TRUE(auth->Check("Bearer alpha-1").ok());
  EXPECT_TRUE(auth->Check("bearer beta/2=").ok());
  EXPECT_TRUE(auth->Check("  BEARER   alpha-1  ").ok());
  EXPECT_FALSE(auth->Check("Bearer gamma").ok());
}

TEST(TokenAuthenticatorTest, FileErrorsNameTheFileAndLine) {
  auto missing = TokenAuthenticator::FromFile("/nonexistent/tokens");
  EXPECT_EQ(missing.status().message(),
            "--auth-tokens /nonexistent/tokens: cannot read it: No such file or directory");
  TokenFile empty("# nothing yet\n\n");
  EXPECT_EQ(
      TokenAuthenticator::FromFile(empty.path()).status().message(),
      "--auth-tokens " + empty.path() + ": no token in it (one per line; '#' starts a comment)");
  TokenFile spaced("ok\nnot ok\n");
  EXPECT_EQ(TokenAuthenticator::FromFile(spaced.path()).status().message(),
            "--auth-tokens " + spaced.path() + ":2: a token cannot contain spaces or tabs");
}

TEST(TokenAuthenticatorTest, MissingMalformedAndWrongCredentialsAreUnauthenticated) {
  const TokenAuthenticator auth({"s3cret"});
  const Status missing = auth.Check(std::nullopt);
  EXPECT_EQ(missing.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(missing.message(), "missing bearer token (send 'authorization: Bearer <token>')");
  EXPECT_EQ(auth.Check("Basic czNjcmV0").message(),
            "the authorization is not a bearer token (send 'authorization: Bearer <token>')");
  EXPECT_EQ(auth.Check("Bearer").code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("Bearer s3cre").message(), "invalid bearer token");
  EXPECT_EQ(auth.Check("Bearer s3cret!").message(), "invalid bearer token");
  EXPECT_TRUE(auth.Check("Bearer s3cret").ok());
}

}  // namespace
}  // namespace seam::server
