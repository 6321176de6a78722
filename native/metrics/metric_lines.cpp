#include "metric_lines.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string_view>
#include <unordered_map>

#include "../common/text_hash.h"

namespace ct {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The text of a JSON number at p (RFC 8259 grammar), or the tokens Python's json writes.
// Returns the end of the token, or nullptr when it is not one.
const char* scan_number(const char* p, const char* end) {
  const char* start = p;
  if (p < end && *p == '-') ++p;
  if (end - p >= 8 && std::memcmp(p, "Infinity", 8) == 0) return p + 8;
  if (p == start && end - p >= 3 && std::memcmp(p, "NaN", 3) == 0) return p + 3;
  if (p >= end) return nullptr;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && is_digit(*p)) ++p;
  } else {
    return nullptr;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (p >= end || !is_digit(*p)) return nullptr;
    while (p < end && is_digit(*p)) ++p;
  }
  return p;
}

// The double JSON.parse gives for a scanned token: correctly rounded, overflow to ±Infinity,
// underflow to ±0 or a subnormal.
bool to_double(const char* p, const char* end, double& out) {
  std::string_view text(p, static_cast<std::size_t>(end - p));
  const bool negative = !text.empty() && text.front() == '-';
  std::string_view magnitude = negative ? text.substr(1) : text;
  if (magnitude == "Infinity") {
    out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
#if defined(__cpp_lib_to_chars) && __cpp_lib_to_chars >= 201611L
  auto [ptr, error] = std::from_chars(p, end, out, std::chars_format::general);
  if (error == std::errc() && ptr == end) return true;
  if (error != std::errc::result_out_of_range) return false;
#endif
  // Out of range (or no floating from_chars): strtod rounds the same way and gives inf / 0 /
  // subnormals. Our token is plain ASCII digits, so only a locale's decimal comma could upset
  // it: then the end pointer shows it, and the caller falls back to JSON.parse.
  std::string copy(text);
  char* stop = nullptr;
  out = std::strtod(copy.c_str(), &stop);
  return stop == copy.c_str() + copy.size();
}

constexpr std::size_t kNoTime = static_cast<std::size_t>(-1);

bool same_keys(const std::vector<std::string_view>& keys, const std::vector<std::string>& shape) {
  if (keys.size() != shape.size()) return false;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (keys[i] != shape[i]) return false;
  }
  return true;
}

}  // namespace

FlatMetricLines parse_flat_metric_lines(const char* data, std::size_t size, FlatMetricLimits limits) {
  FlatMetricLines out;
  std::unordered_map<std::string, std::uint32_t, TextHash> shape_ids;  // keys joined by '\0'
  std::vector<std::string_view> keys;
  std::uint32_t previous_shape = kBlankLine;
  // A value takes at least 4 bytes of a line ("k":1), a line at least 12 ({"step":1}\n).
  out.values.reserve(size / 12);
  out.shape_of_line.reserve(size / 24);
  const char* const stop = data + size;
  const char* line = data;
  auto give_up = [&out]() {
    out = FlatMetricLines{};
    out.flat = false;
    return out;
  };

  while (true) {
    const char* newline = static_cast<const char*>(std::memchr(line, '\n', static_cast<std::size_t>(stop - line)));
    const char* line_end = newline != nullptr ? newline : stop;
    const char* p = line;
    const char* end = line_end;
    while (p < end && is_space(*p)) ++p;
    while (end > p && is_space(end[-1])) --end;
    if (p == end) {
      out.shape_of_line.push_back(kBlankLine);
    } else {
      if (*p != '{' || end[-1] != '}') return give_up();
      ++p;
      --end;  // now inside the braces
      keys.clear();
      bool has_step = false;
      bool first = true;
      while (true) {
        while (p < end && is_space(*p)) ++p;
        if (p == end) {
          if (first) return give_up();  // {}: not a record
          break;
        }
        if (!first) {
          if (*p != ',') return give_up();
          ++p;
          while (p < end && is_space(*p)) ++p;
        }
        first = false;
        if (p >= end || *p != '"') return give_up();
        const char* key_start = ++p;
        while (p < end && *p != '"') {
          const unsigned char c = static_cast<unsigned char>(*p);
          if (c == '\\' || c < 0x20 || c >= 0x7f) return give_up();  // escapes, controls, non-ASCII
          ++p;
        }
        if (p >= end) return give_up();
        std::string_view key(key_start, static_cast<std::size_t>(p - key_start));
        ++p;
        while (p < end && is_space(*p)) ++p;
        if (p >= end || *p != ':') return give_up();
        ++p;
        while (p < end && is_space(*p)) ++p;
        const char* number_end = scan_number(p, end);
        if (number_end == nullptr) return give_up();
        double value = 0;
        if (!to_double(p, number_end, value)) return give_up();
        p = number_end;
        if (keys.size() >= limits.max_keys_per_line) return give_up();
        if (key == "step") {
          if (!std::isfinite(value)) return give_up();
          has_step = true;
        }
        keys.push_back(key);
        out.values.push_back(value);
      }
      if (!has_step) return give_up();
      std::uint32_t shape = kBlankLine;
      if (previous_shape != kBlankLine && same_keys(keys, out.shapes[previous_shape])) {
        shape = previous_shape;  // the usual case: checked when that key set was first seen
      } else {
        for (std::size_t i = 0; i < keys.size(); ++i) {
          if (keys[i] == "__proto__") return give_up();  // an object literal would set the prototype
          for (std::size_t j = 0; j < i; ++j) {
            if (keys[j] == keys[i]) return give_up();  // JSON.parse: the last wins; leave it to it
          }
        }
        std::string signature;
        for (std::string_view key : keys) {
          signature.append(key);
          signature.push_back('\0');
        }
        auto found = shape_ids.find(signature);
        if (found != shape_ids.end()) {
          shape = found->second;
        } else {
          if (out.shapes.size() >= limits.max_shapes) return give_up();
          shape = static_cast<std::uint32_t>(out.shapes.size());
          out.shapes.emplace_back(keys.begin(), keys.end());
          shape_ids.emplace(std::move(signature), shape);
        }
      }
      previous_shape = shape;
      out.shape_of_line.push_back(shape);
    }
    if (newline == nullptr) break;
    line = newline + 1;
  }
  out.flat = true;
  return out;
}

MetricColumns metric_columns(const FlatMetricLines& lines) {
  MetricColumns out;
  // Where each shape's lines hold the step and time, and which column each of its other keys is.
  struct Layout {
    std::size_t step = 0;
    std::size_t time = kNoTime;
    std::vector<std::uint32_t> column;  // per key of the shape; kNotMetric for step and time
  };
  constexpr std::uint32_t kNotMetric = 0xffffffffu;
  std::unordered_map<std::string, std::uint32_t, TextHash> column_of;
  std::vector<Layout> layouts(lines.shapes.size());
  for (std::size_t s = 0; s < lines.shapes.size(); ++s) {
    const std::vector<std::string>& keys = lines.shapes[s];
    Layout& layout = layouts[s];
    layout.column.assign(keys.size(), kNotMetric);
    for (std::size_t k = 0; k < keys.size(); ++k) {
      if (keys[k] == "step") {
        layout.step = k;
      } else if (keys[k] == "time") {
        layout.time = k;
      } else {
        auto found = column_of.emplace(keys[k], static_cast<std::uint32_t>(out.keys.size()));
        if (found.second) out.keys.push_back(keys[k]);
        layout.column[k] = found.first->second;
      }
    }
  }
  // Count, place, fill.
  out.counts.assign(out.keys.size(), 0);
  for (std::uint32_t shape : lines.shape_of_line) {
    if (shape == kBlankLine) continue;
    for (std::uint32_t column : layouts[shape].column) {
      if (column != kNotMetric) ++out.counts[column];
    }
  }
  std::vector<std::size_t> next(out.keys.size());
  std::size_t total = 0;
  for (std::size_t c = 0; c < out.keys.size(); ++c) {
    next[c] = total;
    total += 3 * static_cast<std::size_t>(out.counts[c]);
  }
  out.data.resize(total);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double* values = lines.values.data();
  for (std::uint32_t shape : lines.shape_of_line) {
    if (shape == kBlankLine) continue;
    const Layout& layout = layouts[shape];
    const double step = values[layout.step];
    const double time = layout.time == kNoTime ? nan : values[layout.time];
    for (std::size_t k = 0; k < layout.column.size(); ++k) {
      const std::uint32_t column = layout.column[k];
      if (column == kNotMetric) continue;
      const std::size_t count = out.counts[column];
      const std::size_t at = next[column]++;
      out.data[at] = step;
      out.data[at + count] = time;
      out.data[at + 2 * count] = values[k];
    }
    values += layout.column.size();
  }
  return out;
}

}  // namespace ct
