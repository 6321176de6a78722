// Text made safe for one line of a message: control characters (C0, DEL, C1), invalid UTF-8, and
// the line / paragraph separators and bidirectional marks and overrides a terminal or an editor
// would act on are written as escapes (\n, \t, \x1b, \u202e). File names and pickle keys come
// from untrusted files. The same rule as src/text.ts's oneLine (test/one-line.test.ts checks both
// on the same text); the binding applies it once, to every message it hands to JS.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ct {

inline std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto hex = [&](const char* format, unsigned value) {
    char buffer[12];
    std::snprintf(buffer, sizeof(buffer), format, value);
    out += buffer;
  };
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == '\n') out += "\\n";
      else if (c == '\r') out += "\\r";
      else if (c == '\t') out += "\\t";
      else if (c < 0x20 || c == 0x7f) hex("\\x%02x", c);
      else out += static_cast<char>(c);
      ++i;
      continue;
    }
    // Decode one UTF-8 sequence; anything malformed is escaped byte by byte.
    const std::size_t length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    std::uint32_t cp = length == 4 ? c & 0x07 : length == 3 ? c & 0x0F : c & 0x1F;
    bool valid = length != 0 && i + length <= n;
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    valid = valid && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
            cp >= (length == 2 ? 0x80u : length == 3 ? 0x800u : 0x10000u);
    if (!valid) {
      hex("\\x%02x", c);
      ++i;
      continue;
    }
    const bool acted_on = (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202A && cp <= 0x202E) ||
                          (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F || cp == 0x061C;
    if (acted_on) {
      hex("\\u%04x", cp);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
  return out;
}

}  // namespace ct
