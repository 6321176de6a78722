// Many lstat()s in one call: each figure must be what lstat(2) itself reports for that path (a
// symbolic link's own, never its target's), NaN for a path that fails, and a request whose
// offsets point outside its lists is refused before anything is read.
#include "../common/file_stats.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "support/scratch.h"

namespace {

std::string scratch(const std::string& name) {
  const std::string dir = scratch_dir() + "/" + name;
  mkdir(dir.c_str(), 0755);
  return dir;
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), file);
  std::fclose(file);
}

// The six figures lstat(2) gives for `path`.
void expect_lstat(const std::string& path, const double* figures) {
  struct stat info;
  ASSERT_EQ(lstat(path.c_str(), &info), 0) << path;
  EXPECT_EQ(figures[0], static_cast<double>(info.st_size)) << path;
  EXPECT_EQ(figures[1], static_cast<double>(info.st_mtim.tv_sec)) << path;
  EXPECT_EQ(figures[2], static_cast<double>(info.st_mtim.tv_nsec)) << path;
  EXPECT_EQ(figures[3], static_cast<double>(info.st_ctim.tv_sec)) << path;
  EXPECT_EQ(figures[4], static_cast<double>(info.st_ctim.tv_nsec)) << path;
  EXPECT_EQ(figures[5], static_cast<double>(info.st_ino)) << path;
}

void expect_failed(const double* figures) {
  for (std::size_t k = 0; k < ct::kFileStatFigures; ++k) EXPECT_TRUE(std::isnan(figures[k])) << k;
}

}  // namespace

TEST(FileStats, WhatLstatSaysForEachFolderAndEntry) {
  const std::string a = scratch("stats-a");
  const std::string b = scratch("stats-b");
  write_file(a + "/config.json", "{\"a\": 1}");
  write_file(a + "/metrics.jsonl", std::string(12345, 'x'));
  write_file(b + "/config.json", "{}");
  unlink((b + "/link").c_str());
  ASSERT_EQ(symlink((a + "/metrics.jsonl").c_str(), (b + "/link").c_str()), 0);

  ct::FolderEntries request;
  request.folders = {a, b, a + "/gone"};
  request.names = {"config.json", "metrics.jsonl", "link", "missing", std::string("bad\0name", 8)};
  request.first = {0, 3, 6, 7};
  request.entries = {0, 1, 3, 0, 2, 4, 0};
  ASSERT_TRUE(ct::folder_entries_valid(request));
  const std::vector<double> out = ct::lstat_folder_entries(request);
  ASSERT_EQ(out.size(), (3 + 7) * ct::kFileStatFigures);
  const double* at = out.data();
  auto next = [&at]() {
    const double* figures = at;
    at += ct::kFileStatFigures;
    return figures;
  };
  expect_lstat(a, next());
  expect_lstat(a + "/config.json", next());
  const double* metrics = next();
  expect_lstat(a + "/metrics.jsonl", metrics);
  EXPECT_EQ(metrics[0], 12345);
  expect_failed(next());  // a/missing
  expect_lstat(b, next());
  expect_lstat(b + "/config.json", next());
  const double* link = next();
  expect_lstat(b + "/link", link);  // the link itself, not the file it points to
  EXPECT_NE(link[5], metrics[5]);
  expect_failed(next());  // a name with a NUL in it names no file
  expect_failed(next());  // a folder that is not there
  expect_failed(next());  // ... nor its entries
}

TEST(FileStats, RefusesOffsetsOutsideTheLists) {
  ct::FolderEntries request;
  request.folders = {"/tmp", "/"};
  request.names = {"x"};
  request.first = {0, 1, 2};
  request.entries = {0, 0};
  EXPECT_TRUE(ct::folder_entries_valid(request));
  ct::FolderEntries bad = request;
  bad.entries = {0, 1};  // no name 1
  EXPECT_FALSE(ct::folder_entries_valid(bad));
  bad = request;
  bad.first = {0, 1};  // one offset short
  EXPECT_FALSE(ct::folder_entries_valid(bad));
  bad = request;
  bad.first = {0, 2, 1};  // going back
  EXPECT_FALSE(ct::folder_entries_valid(bad));
  bad = request;
  bad.first = {0, 1, 3};  // past the entries
  EXPECT_FALSE(ct::folder_entries_valid(bad));
  bad = request;
  bad.first = {1, 1, 2};
  EXPECT_FALSE(ct::folder_entries_valid(bad));
  ct::FolderEntries none;
  EXPECT_FALSE(ct::folder_entries_valid(none));  // first needs its one offset
  none.first = {0};
  EXPECT_TRUE(ct::folder_entries_valid(none));
  EXPECT_TRUE(ct::lstat_folder_entries(none).empty());
}
