// The metrics.jsonl fast path: what it accepts it must read exactly as JSON.parse would (the
// vitest suite also compares both on the same bytes); everything else it hands back (flat=false).
#include "metric_lines.h"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(MetricColumns, TheSameLinesByMetric) {
  auto lines = parse(
      "{\"step\": 1, \"time\": 10.5, \"train_loss\": 2.5, \"lr\": 0.1}\n"
      "\n"
      "{\"step\": 2, \"val_loss\": 3, \"train_loss\": NaN}\n"
      "{\"time\": 12, \"step\": 3, \"lr\": 0.05, \"train_loss\": -Infinity}\n");
  ASSERT_TRUE(lines.flat);
  const ct::MetricColumns columns = ct::metric_columns(lines);
  ASSERT_EQ(columns.keys, (std::vector<std::string>{"train_loss", "lr", "val_loss"}));  // as they first appear
  ASSERT_EQ(columns.counts, (std::vector<std::uint32_t>{3, 2, 1}));
  ASSERT_EQ(columns.data.size(), 3u * 6);
  const double nan = std::nan("");
  // Per metric: its steps, then its times (NaN: none on the line), then its values.
  auto expect_column = [&](std::size_t at, std::vector<double> steps, std::vector<double> times, std::vector<double> values) {
    const std::size_t n = steps.size();
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(columns.data[at + i], steps[i]) << at << " step " << i;
      if (std::isnan(times[i])) {
        EXPECT_TRUE(std::isnan(columns.data[at + n + i])) << at << " time " << i;
      } else {
        EXPECT_EQ(columns.data[at + n + i], times[i]) << at << " time " << i;
      }
      if (std::isnan(values[i])) {
        EXPECT_TRUE(std::isnan(columns.data[at + 2 * n + i])) << at << " value " << i;
      } else {
        EXPECT_EQ(columns.data[at + 2 * n + i], values[i]) << at << " value " << i;
      }
    }
  };
  const double inf = std::numeric_limits<double>::infinity();
  expect_column(0, {1, 2, 3}, {10.5, nan, 12}, {2.5, nan, -inf});
  expect_column(9, {1, 3}, {10.5, 12}, {0.1, 0.05});
  expect_column(15, {2}, {nan}, {3});
  EXPECT_TRUE(ct::metric_columns(parse("")).keys.empty());
}

TEST(MetricColumns, AgreesWithTheLinesOnMutatedInput) {
  std::string base;
  for (int i = 0; i < 200; ++i) {
    base += "{\"step\": " + std::to_string(i) + (i % 3 ? ", \"time\": 17643." + std::to_string(i) : "") +
            ", \"loss\": " + std::to_string(3.0 - i * 0.01) + (i % 7 ? "" : ", \"val\": 2") + "}\n";
  }
  std::mt19937 random(99);
  int flat = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string bytes = base;
    if (round > 0) bytes[random() % bytes.size()] = static_cast<char>(random() % 256);
    auto lines = ct::parse_flat_metric_lines(bytes.data(), bytes.size());
    if (!lines.flat) continue;
    ++flat;
    const ct::MetricColumns columns = ct::metric_columns(lines);
    // Walk the lines and check each metric's next point.
    std::vector<std::size_t> seen(columns.keys.size(), 0), start(columns.keys.size(), 0);
    std::size_t total = 0;
    for (std::size_t c = 0; c < columns.keys.size(); ++c) {
      start[c] = total;
      total += 3 * columns.counts[c];
    }
    ASSERT_EQ(total, columns.data.size());
    std::size_t offset = 0;
    for (std::uint32_t shape : lines.shape_of_line) {
      if (shape == ct::kBlankLine) continue;
      const auto& keys = lines.shapes[shape];
      double step = 0, time = std::nan("");
      for (std::size_t k = 0; k < keys.size(); ++k) {
        if (keys[k] == "step") step = lines.values[offset + k];
        if (keys[k] == "time") time = lines.values[offset + k];
      }
      for (std::size_t k = 0; k < keys.size(); ++k) {
        if (keys[k] == "step" || keys[k] == "time") continue;
        const std::size_t c = std::find(columns.keys.begin(), columns.keys.end(), keys[k]) - columns.keys.begin();
        ASSERT_LT(c, columns.keys.size());
        const std::size_t n = columns.counts[c], i = seen[c]++;
        ASSERT_LT(i, n);
        EXPECT_EQ(columns.data[start[c] + i], step);
        EXPECT_EQ(std::isnan(columns.data[start[c] + n + i]), std::isnan(time));
        if (!std::isnan(time)) {
          EXPECT_EQ(columns.data[start[c] + n + i], time);
        }
        const double value = lines.values[offset + k];
        if (std::isnan(value)) {
          EXPECT_TRUE(std::isnan(columns.data[start[c] + 2 * n + i]));
        } else {
          EXPECT_EQ(columns.data[start[c] + 2 * n + i], value);
        }
      }
      offset += keys.size();
    }
    for (std::size_t c = 0; c < columns.keys.size(); ++c) EXPECT_EQ(seen[c], columns.counts[c]);
  }
  EXPECT_GT(flat, 100);
}
