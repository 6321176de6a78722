#include "kfd_topology.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ct::gpu {
namespace {

bool exists(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0;
}

constexpr std::size_t kMaxPropertiesBytes = 65536;

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 9 && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool kfd_present(const std::string& root) { return exists(root + "/dev/kfd") || exists(root + "/sys/class/kfd"); }

std::optional<std::uint64_t> kfd_property(const std::string& properties, const std::string& key) {
  std::istringstream lines(properties);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() <= key.size() || line.compare(0, key.size(), key) != 0 || line[key.size()] != ' ') continue;
    const char* value = line.c_str() + key.size() + 1;
    if (*value < '0' || *value > '9') return std::nullopt;
    errno = 0;
    char* end = nullptr;
    unsigned long long number = std::strtoull(value, &end, 10);
    if (errno == ERANGE || (*end != '\0' && *end != '\r')) return std::nullopt;
    return static_cast<std::uint64_t>(number);
  }
  return std::nullopt;
}

std::optional<std::vector<std::uint64_t>> kfd_gpu_unique_ids(const std::string& root) {
  std::string nodes_dir = root + "/sys/class/kfd/kfd/topology/nodes";
  DIR* dir = opendir(nodes_dir.c_str());
  if (dir == nullptr) return std::nullopt;
  std::vector<unsigned long> nodes;
  while (struct dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (all_digits(name)) nodes.push_back(std::stoul(name));
  }
  closedir(dir);
  std::sort(nodes.begin(), nodes.end());
  std::vector<std::uint64_t> ids;
  for (unsigned long node : nodes) {
    std::ifstream file(nodes_dir + "/" + std::to_string(node) + "/properties");
    if (!file) return std::nullopt;
    std::string properties(kMaxPropertiesBytes, '\0');  // sysfs files are one page
    file.read(properties.data(), static_cast<std::streamsize>(properties.size()));
    properties.resize(static_cast<std::size_t>(file.gcount()));
    std::optional<std::uint64_t> simds = kfd_property(properties, "simd_count");
    if (!simds) return std::nullopt;
    if (*simds == 0) continue;  // a CPU node
    ids.push_back(kfd_property(properties, "unique_id").value_or(0));
  }
  return ids;
}

}  // namespace ct::gpu
