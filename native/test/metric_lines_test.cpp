// The metrics.jsonl fast path: what it accepts it must read exactly as JSON.parse would (the
// vitest suite also compares both on the same bytes); everything else it hands back (flat=false).
#include "metric_lines.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>

namespace {

ct::FlatMetricLines parse(const std::string& text) { return ct::parse_flat_metric_lines(text.data(), text.size()); }

}  // namespace

TEST(MetricLines, TheTrackersOwnLines) {
  auto out = parse(
      "{\"step\": 120, \"time\": 1764322514.123, \"train_loss\": 2.31, \"lr\": 0.0006}\n"
      "{\"step\": 121, \"time\": 1764322514.5, \"train_loss\": NaN, \"lr\": -Infinity}\n"
      "  \t\r\n"
      "{\"step\":122,\"val_loss\":1e-7}");
  ASSERT_TRUE(out.flat);
  ASSERT_EQ(out.shapes.size(), 2u);
  EXPECT_EQ(out.shapes[0], (std::vector<std::string>{"step", "time", "train_loss", "lr"}));
  EXPECT_EQ(out.shapes[1], (std::vector<std::string>{"step", "val_loss"}));
  EXPECT_EQ(out.shape_of_line, (std::vector<std::uint32_t>{0, 0, ct::kBlankLine, 1}));
  ASSERT_EQ(out.values.size(), 10u);
  EXPECT_EQ(out.values[0], 120);
  EXPECT_EQ(out.values[1], 1764322514.123);
  EXPECT_EQ(out.values[2], 2.31);
  EXPECT_EQ(out.values[3], 0.0006);
  EXPECT_TRUE(std::isnan(out.values[6]));
  EXPECT_EQ(out.values[7], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(out.values[9], 1e-7);
}

TEST(MetricLines, NumbersRoundAsJsonParseDoes) {
  auto out = parse(
      "{\"step\": 0, \"a\": 0.1, \"b\": 2.3012340068817139, \"c\": 1e308, \"d\": 1e400, \"e\": -1e400, "
      "\"f\": 5e-324, \"g\": 1e-400, \"h\": -0, \"i\": 9007199254740993, \"j\": 1E+2, \"k\": 2.2250738585072011e-308}");
  ASSERT_TRUE(out.flat);
  const auto& v = out.values;
  EXPECT_EQ(v[1], 0.1);
  EXPECT_EQ(v[2], 2.3012340068817139);
  EXPECT_EQ(v[3], 1e308);
  EXPECT_EQ(v[4], std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[5], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(v[6], 5e-324);
  EXPECT_EQ(v[7], 0.0);
  EXPECT_TRUE(std::signbit(v[8]));
  EXPECT_EQ(v[9], 9007199254740992.0);  // rounds to even, as JSON.parse does
  EXPECT_EQ(v[10], 100.0);
  EXPECT_EQ(v[11], 2.2250738585072011e-308);
}

TEST(MetricLines, HandsBackAnythingElse) {
  const char* others[] = {
      "{\"step\": 1, \"phase\": \"train\"}",       // a string value
      "{\"step\": 1, \"loss\": {\"a\": 1}}",       // nested
      "{\"step\": 1, \"loss\": [1]}",              // array
      "{\"step\": 1, \"loss\": null}",             // null
      "{\"step\": 1, \"done\": true}",             // boolean
      "{\"step\": 1, \"lo\\u0073s\": 1}",          // an escape in a key
      "{\"step\": 1, \"l\xc3\xb6ss\": 1}",         // non-ASCII key: JSON.parse decodes it
      "{\"step\": 1, \"loss\": 1, \"loss\": 2}",   // duplicate key
      "{\"step\": 1, \"__proto__\": 1}",
      "{\"loss\": 1}",                             // no step
      "{\"step\": NaN}",                           // a step that is not finite
      "{}",
      "{\"step\": 01}",                            // JSON forbids leading zeros
      "{\"step\": 1, \"a\": .5}",
      "{\"step\": 1, \"a\": 1.}",
      "{\"step\": 1, \"a\": +1}",
      "{\"step\": 1, \"a\": 1e}",
      "{\"step\": 1, \"a\": 0x10}",
      "{\"step\": 1, \"a\": nan}",
      "{\"step\": 1, \"a\": -NaN}",
      "{\"step\": 1, \"a\": 1,}",
      "{\"step\": 1 \"a\": 1}",
      "{\"step\": 1, \"ti",                        // torn
      "[1, 2]",
      "not json",
  };
  for (const char* line : others) {
    auto out = parse(std::string("{\"step\": 0, \"ok\": 1}\n") + line);
    EXPECT_FALSE(out.flat) << line;
    EXPECT_TRUE(out.values.empty() && out.shapes.empty()) << line;
  }
}

TEST(MetricLines, BoundsShapesAndKeys) {
  std::string many;
  for (int i = 0; i < 65; ++i) many += "{\"step\": 1, \"m" + std::to_string(i) + "\": 1}\n";
  EXPECT_FALSE(parse(many).flat);  // more key sets than max_shapes
  std::string wide = "{\"step\": 1";
  for (int i = 0; i < 5000; ++i) wide += ", \"k" + std::to_string(i) + "\": " + std::to_string(i);
  wide += "}";
  EXPECT_FALSE(parse(wide).flat);
  EXPECT_TRUE(parse("").flat);  // nothing: one blank line
}

TEST(MetricLines, SurvivesMutatedInput) {
  std::string base;
  for (int i = 0; i < 200; ++i) {
    base += "{\"step\": " + std::to_string(i) + ", \"time\": 1764322514." + std::to_string(i) +
            ", \"loss\": " + std::to_string(3.0 - i * 0.01) + ", \"lr\": -6e-4}\n";
  }
  std::mt19937 random(1234);
  for (int round = 0; round < 3000; ++round) {
    std::string bytes = base;
    const int edits = 1 + static_cast<int>(random() % 8);
    for (int e = 0; e < edits; ++e) bytes[random() % bytes.size()] = static_cast<char>(random() % 256);
    auto out = ct::parse_flat_metric_lines(bytes.data(), bytes.size());
    if (!out.flat) continue;
    std::size_t expected = 0;
    for (std::uint32_t shape : out.shape_of_line) {
      if (shape != ct::kBlankLine) expected += out.shapes.at(shape).size();
    }
    EXPECT_EQ(expected, out.values.size());
  }
}
