#include "visible_devices.h"

#include <algorithm>
#include <climits>

namespace ct {
namespace {

bool is_python_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string strip(const std::string& text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_python_space(text[begin])) ++begin;
  while (end > begin && is_python_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = text.find(',', start);
    parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Like strtoul on the leading "[+-]digits" of an entry: "1gpu2" is 1, "-0" is 0, "-1" is -1.
// Anything without a digit is -1, which ends the list. Huge values saturate (they are out of
// range for any machine and end the list at resolution).
long long leading_integer(const std::string& entry) {
  std::size_t pos = 0;
  bool negative = false;
  if (pos < entry.size() && (entry[pos] == '+' || entry[pos] == '-')) {
    negative = entry[pos] == '-';
    ++pos;
  }
  std::size_t first_digit = pos;
  long long value = 0;
  while (pos < entry.size() && entry[pos] >= '0' && entry[pos] <= '9') {
    int digit = entry[pos] - '0';
    value = value > (LLONG_MAX - digit) / 10 ? LLONG_MAX : value * 10 + digit;
    ++pos;
  }
  if (pos == first_digit) return -1;
  return negative ? -value : value;
}

std::vector<std::string> prefixed_entries(const std::string& value, const std::string& prefix) {
  std::vector<std::string> entries;
  for (const std::string& entry : split_commas(value)) {
    if (std::find(entries.begin(), entries.end(), entry) != entries.end()) return {};
    if (!starts_with(entry, prefix)) break;
    entries.push_back(entry);
  }
  return entries;
}

}  // namespace

VisibleDevicesSpec parse_visible_devices(const std::optional<std::string>& value) {
  VisibleDevicesSpec spec;
  if (!value) return spec;
  if (starts_with(*value, "GPU-")) {
    spec.kind = VisibleDevicesSpec::Kind::kGpuUuids;
    spec.uuid_prefixes = prefixed_entries(*value, "GPU-");
    return spec;
  }
  if (starts_with(*value, "MIG-")) {
    spec.kind = VisibleDevicesSpec::Kind::kMigUuids;
    spec.uuid_prefixes = prefixed_entries(*value, "MIG-");
    return spec;
  }
  spec.kind = VisibleDevicesSpec::Kind::kOrdinals;
  for (const std::string& entry : split_commas(*value)) {
    long long ordinal = leading_integer(strip(entry));
    if (std::find(spec.ordinals.begin(), spec.ordinals.end(), ordinal) != spec.ordinals.end()) {
      spec.ordinals.clear();
      return spec;
    }
    if (ordinal < 0) break;
    spec.ordinals.push_back(ordinal);
  }
  return spec;
}

std::vector<std::size_t> resolve_ordinals(const std::vector<long long>& ordinals,
                                          std::size_t device_count) {
  std::vector<std::size_t> positions;
  for (long long ordinal : ordinals) {
    if (ordinal < 0 || static_cast<unsigned long long>(ordinal) >= device_count) break;
    positions.push_back(static_cast<std::size_t>(ordinal));
  }
  return positions;
}

std::vector<std::size_t> resolve_uuid_prefixes(const std::vector<std::string>& prefixes,
                                               const std::vector<std::string>& uuids) {
  std::vector<std::size_t> positions;
  for (const std::string& prefix : prefixes) {
    std::optional<std::size_t> match;
    bool ambiguous = false;
    for (std::size_t i = 0; i < uuids.size(); ++i) {
      if (!starts_with(uuids[i], prefix)) continue;
      if (match) {
        ambiguous = true;
        break;
      }
      match = i;
    }
    if (!match || ambiguous) break;
    if (std::find(positions.begin(), positions.end(), *match) != positions.end()) return {};
    positions.push_back(*match);
  }
  return positions;
}

}  // namespace ct
