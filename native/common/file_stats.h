// Many lstat()s in one call: the dashboard checks, for every run it knows, whether the folder and
// the files a row was read from still have their size, times and inode (10,000 runs are 50,000
// files: one call on the thread pool instead of 50,000 round trips through it). The figures are
// those Node's fs.lstat reports (platform::lstat_figures); a symbolic link at the end of a path is
// not followed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ct {

// Doubles per stat: size, mtime seconds, mtime nanoseconds, ctime seconds, ctime nanoseconds, inode.
inline constexpr std::size_t kFileStatFigures = 6;

// Folders and the entries of each to stat: folder i's entries are names[entries[k]] for k in
// [first[i], first[i + 1]).
struct FolderEntries {
  std::vector<std::string> folders;
  std::vector<std::string> names;
  std::vector<std::uint32_t> first;  // folders.size() + 1 offsets into entries
  std::vector<std::uint32_t> entries;
};

// Whether the offsets and indices of `request` stay inside its vectors.
bool folder_entries_valid(const FolderEntries& request);

// For each folder: the folder itself, then each of its entries, kFileStatFigures doubles each
// (platform::lstat_figures); NaN in all of them where lstat fails (gone, no permission, a name
// too long). The request must be valid.
std::vector<double> lstat_folder_entries(const FolderEntries& request);

}  // namespace ct
