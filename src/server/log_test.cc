// The logfmt events the server writes, read back as the JSON log format reads them.
#include "server/log.h"

#include <gtest/gtest.h>

namespace seam::server {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(LogTest, LogfmtPairsComeBackAsWritten) {
  EXPECT_EQ(
      ParseLogfmt("event=model_loaded model=cnn version=2 load_ms=41"),
      (Pairs{{"event", "model_loaded"}, {"model", "cnn"}, {"version", "2"}, {"load_ms", "41"}}));
  // Whatever LogValue quotes comes back unquoted.
  const std::string tricky = "a \"quoted\" path\\with=signs\nand a newline";
  EXPECT_EQ(ParseLogfmt("event=x error=" + LogValue(tricky) + " next=1"),
            (Pairs{{"event", "x"}, {"error", tricky}, {"next", "1"}}));
  EXPECT_EQ(ParseLogfmt("empty= k=v"), (Pairs{{"empty", ""}, {"k", "v"}}));
  // Words that are not pairs are kept as text, never dropped.
  EXPECT_EQ(ParseLogfmt("free text =odd k=v"), (Pairs{{"k", "v"}, {"msg", "free text =odd"}}));
  EXPECT_EQ(ParseLogfmt(""), Pairs{});
  EXPECT_EQ(ParseLogfmt("k=\"unterminated"), (Pairs{{"k", "unterminated"}}));
}

TEST(LogTest, UnknownFormatsAreRefused) {
  const Status s = InitLogging("info", "xml");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "--log-format 'xml': expected logfmt or json");
  EXPECT_TRUE(InitLogging("info", "json").ok());
  EXPECT_TRUE(InitLogging("info").ok());
}

}  // namespace
}  // namespace seam::server
