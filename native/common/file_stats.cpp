#include "file_stats.h"

#include <limits>

#include "../platform/platform.h"

namespace ct {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The figures of one path into `out`, NaN in each where lstat fails (a name with a NUL names no file).
void stat_into(const std::string& path, double* out) {
  if (path.find('\0') == std::string::npos && platform::lstat_figures(path.c_str(), out)) return;
  for (std::size_t k = 0; k < kFileStatFigures; ++k) out[k] = kNaN;
}

}  // namespace

bool folder_entries_valid(const FolderEntries& request) {
  if (request.first.size() != request.folders.size() + 1 || request.first.front() != 0) return false;
  for (std::size_t i = 0; i + 1 < request.first.size(); ++i) {
    if (request.first[i] > request.first[i + 1]) return false;
  }
  if (request.first.back() != request.entries.size()) return false;
  for (std::uint32_t name : request.entries) {
    if (name >= request.names.size()) return false;
  }
  return true;
}

std::vector<double> lstat_folder_entries(const FolderEntries& request) {
  std::vector<double> out((request.folders.size() + request.entries.size()) * kFileStatFigures);
  double* at = out.data();
  std::string path;
  for (std::size_t i = 0; i < request.folders.size(); ++i) {
    const std::string& folder = request.folders[i];
    stat_into(folder, at);
    at += kFileStatFigures;
    for (std::uint32_t k = request.first[i]; k < request.first[i + 1]; ++k) {
      path.assign(folder);
      path.push_back('/');
      path.append(request.names[request.entries[k]]);
      stat_into(path, at);
      at += kFileStatFigures;
    }
  }
  return out;
}

}  // namespace ct
