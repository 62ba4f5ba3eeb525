#include "cascade/idx_dataset.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace seam::cascade {
namespace {

namespace fs = std::filesystem;

std::string Header(uint8_t dims, std::initializer_list<uint32_t> sizes) {
  std::string h = {0, 0, 0x08, static_cast<char>(dims)};
  for (uint32_t s : sizes) {
    h += static_cast<char>(s >> 24);
    h += static_cast<char>(s >> 16);
    h += static_cast<char>(s >> 8);
    h += static_cast<char>(s);
  }
  return h;
}

class IdxDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam-idx-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  fs::path dir_;
};

TEST_F(IdxDatasetTest, ImagesAndLabelsAreReadAndScaled) {
  // Two 2x3 images.
  const auto images = Write("i", Header(3, {2, 2, 3}) + std::string("\x00\xff\x01\x02\x03\x04"
                                                                    "abcdef",
                                                                    12));
  const auto labels = Write("l", Header(1, {2}) + std::string("\x07\x09", 2));
  auto set = ReadIdx(images, labels);
  ASSERT_TRUE(set.ok()) << set.status().ToString();
  ASSERT_EQ(set->size(), 2u);
  EXPECT_EQ(set->labels[1], 9);
  const Tensor t = set->Image(0);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1, 1, 2, 3}));
  EXPECT_FLOAT_EQ(t.data_as<float>()[1], 1.0f);
  EXPECT_FLOAT_EQ(t.data_as<float>()[2], 1.0f / 255);
  const auto tail = Slice(*set, 1, 5);
  ASSERT_EQ(tail.size(), 1u);
  EXPECT_EQ(tail.labels[0], 9);
  EXPECT_FLOAT_EQ(tail.Image(0).data_as<float>()[0], 'a' / 255.0f);
}

TEST_F(IdxDatasetTest, BrokenFilesAreRefusedNamingTheFile) {
  const auto labels = Write("l", Header(1, {2}) + std::string("\x07\x09", 2));
  const auto truncated = Write("t", Header(3, {2, 2, 3}) + "abc");
  auto a = ReadIdx(truncated, labels);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find(truncated + ": the header says 12 bytes"), std::string::npos)
      << a.status().message();
  const auto text = Write("x", "hello, world");
  auto b = ReadIdx(text, labels);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("not an IDX file"), std::string::npos);
  const auto three = Write("i3", Header(3, {3, 1, 1}) + "abc");
  auto c = ReadIdx(three, labels);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("3 images but"), std::string::npos) << c.status().message();
  auto swapped = ReadIdx(labels, labels);
  EXPECT_FALSE(swapped.ok());
  EXPECT_FALSE(ReadFashionMnist(dir_.string(), "validation").ok());
}

}  // namespace
}  // namespace seam::cascade
