#include "rocm_visible_devices.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace ct::gpu {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string trimmed_upper(std::string token) {
  std::size_t begin = 0;
  std::size_t end = token.size();
  while (begin < end && is_space(token[begin])) ++begin;
  while (end > begin && is_space(token[end - 1])) --end;
  token = token.substr(begin, end - begin);
  for (char& c : token) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return token;
}

// ROCr's UUID match: `token` the start of exactly one GPU's upper-case UUID.
std::optional<std::size_t> rocr_uuid_position(const std::string& token, const std::vector<std::string>& uuids) {
  if (token.size() < 5 || token.size() > 20) return std::nullopt;
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < uuids.size(); ++i) {
    if (uuids[i].compare(0, token.size(), token) != 0 || token.size() > uuids[i].size()) continue;
    if (found) return std::nullopt;  // ambiguous
    found = i;
  }
  return found;
}

// std::strtol(token, &end, 0) that must read the whole token, narrowed to int32 as ROCr stores it.
std::optional<long long> rocr_index(const std::string& token) {
  errno = 0;
  char* end = nullptr;
  long value = std::strtol(token.c_str(), &end, 0);
  if (*end != '\0') return std::nullopt;
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(static_cast<unsigned long>(value)));
}

bool plain_decimal(const std::string& text) {
  if (text.empty() || text.size() > 9) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string rocm_uuid(std::uint64_t unique_id) {
  if (unique_id == 0) return "GPU-XX";
  char text[24];
  std::snprintf(text, sizeof(text), "GPU-%016llx", static_cast<unsigned long long>(unique_id));
  return text;
}

RocrSelection apply_rocr_visible_devices(const std::optional<std::string>& value,
                                         const std::vector<std::uint64_t>& unique_ids) {
  RocrSelection selection;
  if (!value) {
    for (std::size_t i = 0; i < unique_ids.size(); ++i) selection.positions.push_back(i);
    return selection;
  }
  if (value->empty()) return selection;
  std::vector<std::string> tokens;
  std::stringstream stream(*value);
  std::string token;
  while (std::getline(stream, token, ',')) tokens.push_back(trimmed_upper(token));
  std::vector<std::string> uuids;
  for (std::uint64_t id : unique_ids) {
    std::string uuid = id == 0 ? "Invalid-UUID" : rocm_uuid(id);
    for (char& c : uuid) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    uuids.push_back(uuid);
  }
  std::size_t count = std::min(unique_ids.size(), tokens.size());
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& entry = tokens[i];
    if (entry.empty()) {
      selection.positions.clear();
      selection.runtime_fails = true;
      return selection;
    }
    std::optional<long long> index;
    if (entry[0] == 'G') {
      if (std::optional<std::size_t> position = rocr_uuid_position(entry, uuids)) index = static_cast<long long>(*position);
    } else {
      index = rocr_index(entry);
    }
    if (!index || *index < 0 || static_cast<unsigned long long>(*index) >= unique_ids.size()) break;
    std::size_t position = static_cast<std::size_t>(*index);
    if (std::find(selection.positions.begin(), selection.positions.end(), position) != selection.positions.end()) break;
    selection.positions.push_back(position);
  }
  return selection;
}

std::vector<std::size_t> apply_hip_visible_devices(const std::optional<std::string>& value,
                                                   const std::vector<std::uint64_t>& unique_ids) {
  std::vector<std::size_t> positions;
  if (!value || value->empty()) {
    for (std::size_t i = 0; i < unique_ids.size(); ++i) positions.push_back(i);
    return positions;
  }
  const std::string& ordinals = *value;
  std::size_t pos = 0;
  do {
    std::size_t end = ordinals.find(',', pos);
    if (end == std::string::npos) end = ordinals.size();
    std::string entry = ordinals.substr(pos, end - pos);
    if (entry.find("GPU-") != std::string::npos) {
      for (std::size_t i = 0; i < unique_ids.size(); ++i) {
        if (rocm_uuid(unique_ids[i]).find(entry) != std::string::npos) {
          entry = std::to_string(i);
          break;
        }
      }
    }
    if (!plain_decimal(entry)) break;
    std::size_t index = static_cast<std::size_t>(std::stoul(entry));
    if (index >= unique_ids.size()) break;
    if (std::find(positions.begin(), positions.end(), index) == positions.end()) positions.push_back(index);
    pos = end + 1;
  } while (pos < ordinals.size());
  return positions;
}

}  // namespace ct::gpu
