#include <gtest/gtest.h>

#include <string>

#include "util/rfc3339.hpp"

using webpush::util::format_rfc3339;
using webpush::util::parse_rfc3339;

namespace {

constexpr std::int64_t kUs = 1000000;

TEST(Rfc3339, ParsesUtc)
{
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_rfc3339("2026-05-01T12:00:00Z"), 1777636800 * kUs);
    EXPECT_EQ(parse_rfc3339("2026-05-01t12:00:00z"), 1777636800 * kUs);
    EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), -1 * kUs);
}

TEST(Rfc3339, Offsets)
{
    EXPECT_EQ(parse_rfc3339("2026-05-01T14:00:00+02:00"),
              parse_rfc3339("2026-05-01T12:00:00Z"));
    EXPECT_EQ(parse_rfc3339("2026-05-01T06:30:00-05:30"),
              parse_rfc3339("2026-05-01T12:00:00Z"));
    EXPECT_EQ(parse_rfc3339("2026-05-01T12:00:00-00:00"),
              parse_rfc3339("2026-05-01T12:00:00Z"));
}

TEST(Rfc3339, Fractions)
{
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.5Z"), 500000);
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.123456Z"), 123456);
    EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00.123456789Z"), 123456);
    EXPECT_FALSE(parse_rfc3339("1970-01-01T00:00:00.Z"));
    EXPECT_FALSE(parse_rfc3339("1970-01-01T00:00:00.1234567890Z"));
}

TEST(Rfc3339, LeapYears)
{
    EXPECT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z"));
    EXPECT_TRUE(parse_rfc3339("2000-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("1900-02-29T00:00:00Z"));
    EXPECT_FALSE(parse_rfc3339("2026-04-31T00:00:00Z"));
}

TEST(Rfc3339, RefusesWhatIsNotStrict)
{
    for (const char* bad : {
             "", "2026-05-01", "2026-05-01T12:00:00", "2026-05-01 12:00:00Z",
             "2026-5-01T12:00:00Z", "2026-05-01T12:00Z",
             "2026-05-01T24:00:00Z", "2026-05-01T12:60:00Z",
             "2026-05-01T12:00:60Z", "2026-13-01T12:00:00Z",
             "2026-00-01T12:00:00Z", "2026-05-00T12:00:00Z",
             "0000-01-01T00:00:00Z", "2026-05-01T12:00:00+2:00",
             "2026-05-01T12:00:00+0200", "2026-05-01T12:00:00+24:00",
             "2026-05-01T12:00:00+02:60", " 2026-05-01T12:00:00Z",
             "2026-05-01T12:00:00Z ", "2026-05-01T12:00:00ZZ",
             "+2026-05-01T12:00:00Z", "2026-05-01T12:00:00UTC",
             "1777636800", "2026-05-01T12:0a:00Z"}) {
        EXPECT_FALSE(parse_rfc3339(bad)) << bad;
    }
}

TEST(Rfc3339, Formats)
{
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(1777636800 * kUs), "2026-05-01T12:00:00Z");
    EXPECT_EQ(format_rfc3339(1777636800 * kUs + 250000),
              "2026-05-01T12:00:00.25Z");
    EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
}

TEST(Rfc3339, RoundTrips)
{
    for (const char* s : {"2024-02-29T23:59:59.000001Z",
                          "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
        auto t = parse_rfc3339(s);
        ASSERT_TRUE(t) << s;
        EXPECT_EQ(format_rfc3339(*t), s);
    }
}

}  // namespace
