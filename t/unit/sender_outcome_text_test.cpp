#include <gtest/gtest.h>

#include "sender/log_limit.hpp"
#include "sender/outcome_text.hpp"
#include "sender/write_back.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace webpush::sender;

namespace {

const std::string fffd = "\xEF\xBF\xBD";

PendingOutcome outcome(std::uint64_t id, const char *error = nullptr)
{
    PendingOutcome o;
    o.id = id;
    o.outcome = "failed";
    if (error != nullptr) {
        o.error = error;
    }
    return o;
}

} // namespace

TEST(SanitizeText, ValidUtf8IsKept)
{
    EXPECT_EQ(sanitize_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
              "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
    EXPECT_EQ(sanitize_text(""), "");
}

TEST(SanitizeText, InvalidSequencesBecomeReplacementCharacters)
{
    // Latin-1 e-acute, as a WNS error description may carry it
    EXPECT_EQ(sanitize_text("caf\xE9"), "caf" + fffd);
    EXPECT_EQ(sanitize_text("\xE9t\xE9"), fffd + "t" + fffd);
    // a stray continuation byte, a truncated sequence
    EXPECT_EQ(sanitize_text("a\x80z"), "a" + fffd + "z");
    EXPECT_EQ(sanitize_text("a\xE2\x82"), "a" + fffd);
    // overlong '/', a surrogate, beyond U+10FFFF: one U+FFFD for a lead
    // byte and the continuation bytes after it; 0xFF
    EXPECT_EQ(sanitize_text("\xC0\xAF"), fffd);
    EXPECT_EQ(sanitize_text("\xED\xA0\x80"), fffd);
    EXPECT_EQ(sanitize_text("\xF4\x90\x80\x80z"), fffd + "z");
    EXPECT_EQ(sanitize_text("\xFF"), fffd);
}

TEST(SanitizeText, ControlCharactersBecomeQuestionMarks)
{
    EXPECT_EQ(sanitize_text("\x1B[31mred\x07"), "?[31mred?");
    EXPECT_EQ(sanitize_text(std::string("a\0b", 3)), "a?b");
    EXPECT_EQ(sanitize_text("a\r\nb\tc\x7F"), "a??b?c?");
    // C1 controls, valid UTF-8 but still controls
    EXPECT_EQ(sanitize_text("\xC2\x85\xC2\x9F\xC2\xA0"), "??\xC2\xA0");
}

TEST(SanitizeText, CutOnACharacterBoundary)
{
    EXPECT_EQ(sanitize_text(std::string(300, 'x')).size(), 200u);
    EXPECT_EQ(sanitize_text("abc\xC3\xA9", 4), "abc");
    EXPECT_EQ(sanitize_text("abc\xC3\xA9", 5), "abc\xC3\xA9");
    EXPECT_EQ(sanitize_text("ab\xE9", 4), "ab");
    EXPECT_EQ(sanitize_text("ab\xE9", 5), "ab" + fffd);

    std::string many;
    for (int i = 0; i < 100; i++) {
        many += "\xE2\x82\xAC";
    }
    EXPECT_EQ(sanitize_text(many).size(), 198u);
}

TEST(JsonMember, FindsStringsAndNumbers)
{
    std::string_view body =
        R"({"code": 503, "errno":202, "error":"Service \"Unavailable\""})";
    EXPECT_EQ(json_number_member(body, "errno"), 202);
    EXPECT_EQ(json_number_member(body, "code"), 503);
    EXPECT_EQ(json_string_member(body, "error"), "Service \"Unavailable\"");
    EXPECT_EQ(json_number_member(body, "error"), std::nullopt);
    EXPECT_EQ(json_string_member(body, "errno"), std::nullopt);
    EXPECT_EQ(json_number_member(body, "missing"), std::nullopt);
    EXPECT_EQ(json_number_member(R"({"errno":2.5})", "errno"), std::nullopt);
    EXPECT_EQ(json_number_member("", "errno"), std::nullopt);
    EXPECT_EQ(json_string_member(R"({"reason":"cut)", "reason"),
              std::nullopt);
}

TEST(PushServiceReason, AppleFcmAndText)
{
    EXPECT_EQ(push_service_reason(R"({"reason":"BadJwtToken"})"),
              "BadJwtToken");
    EXPECT_EQ(push_service_reason(R"({"reason":"VapidPkHashMismatch"})"),
              "VapidPkHashMismatch");
    EXPECT_EQ(push_service_reason(
                  R"({"error":{"code":403,"message":"denied"}})"),
              "denied");
    EXPECT_EQ(push_service_reason("the key does not match\nmore"),
              "the key does not match");
    EXPECT_EQ(push_service_reason("<html><body>403</body></html>"), "");
    EXPECT_EQ(push_service_reason("  \r\n"), "");
    EXPECT_EQ(push_service_reason(std::string(300, 'x')).size(), 100u);
    EXPECT_EQ(push_service_reason("caf\xE9"), "caf" + fffd);
}

TEST(DescribeFailure, Composition)
{
    EXPECT_EQ(describe_failure(500, "", "", ""), "500");
    EXPECT_EQ(describe_failure(0, "timed out", "", ""),
              "no answer: timed out");
    EXPECT_EQ(describe_failure(400, "", "caf\xE9 \x1B[31m", ""),
              "400 (X-WNS-Error-Description: caf" + fffd + " ?[31m)");
    EXPECT_EQ(describe_failure(403, "", "", "BadJwtToken"),
              "403 (BadJwtToken)");
    EXPECT_LE(describe_failure(400, std::string(500, 'e'), "", "").size(),
              max_error_text);
}

TEST(LogLimiter, OncePerKeyPerWindow)
{
    LogLimiter l(60000);

    EXPECT_TRUE(l.check("https://a", 0).log);
    EXPECT_FALSE(l.check("https://a", 1000).log);
    EXPECT_FALSE(l.check("https://a", 59999).log);
    EXPECT_TRUE(l.check("https://b", 2000).log);

    auto v = l.check("https://a", 60000);
    EXPECT_TRUE(v.log);
    EXPECT_EQ(v.suppressed, 2u);

    v = l.check("https://a", 120000);
    EXPECT_TRUE(v.log);
    EXPECT_EQ(v.suppressed, 0u);
}

TEST(LogLimiter, BoundedKeys)
{
    LogLimiter l(60000, 2);

    EXPECT_TRUE(l.check("a", 0).log);
    EXPECT_TRUE(l.check("b", 0).log);
    // full, nothing expired: forgets all, so logs once too often at most
    EXPECT_TRUE(l.check("c", 10).log);
    EXPECT_FALSE(l.check("c", 20).log);
}

TEST(WriteBack, BatchesOfAtMostBatchMax)
{
    WriteBack wb(3);

    for (std::uint64_t i = 1; i <= 5; i++) {
        wb.add(outcome(i));
    }

    EXPECT_EQ(wb.size(), 5u);
    auto b = wb.take(0);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->items.size(), 3u);
    EXPECT_EQ(wb.size(), 2u);
    wb.written();
    b = wb.take(0);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->items.size(), 2u);
    EXPECT_FALSE(wb.take(0));
}

TEST(WriteBack, OtherFailuresBackOffDoubling)
{
    WriteBack wb(10);
    wb.add(outcome(1));
    wb.add(outcome(2));

    std::int64_t now = 1000;
    std::int64_t want = 20;

    for (int i = 0; i < 12; i++) {
        auto b = wb.take(now);
        ASSERT_TRUE(b);
        EXPECT_EQ(wb.refused(std::move(*b), false, now), Refusal::backoff);
        EXPECT_EQ(wb.delay_ms(), want);
        EXPECT_EQ(wb.size(), 2u);
        // held until the delay passed
        EXPECT_FALSE(wb.take(now + want - 1));
        now += want;
        want = std::min<std::int64_t>(want * 2, 5000);
    }

    auto b = wb.take(now);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->items.front().id, 1u);   // order kept
    wb.written();
    EXPECT_EQ(wb.delay_ms(), 0);
}

TEST(WriteBack, DataErrorsSplitDownToTheOffender)
{
    WriteBack wb(500);

    for (std::uint64_t i = 1; i <= 7; i++) {
        wb.add(outcome(i, i == 5 ? "bad" : "fine"));
    }

    // the database refuses any batch holding outcome 5 with its text
    int statements = 0;
    std::vector<std::uint64_t> written;

    while (auto b = wb.take(0)) {
        statements++;
        ASSERT_LT(statements, 30);
        bool bad = false;
        for (const auto &o : b->items) {
            bad = bad || (o.error && *o.error == "bad");
        }
        if (bad) {
            Refusal r = wb.refused(std::move(*b), true, 0);
            EXPECT_TRUE(r == Refusal::split || r == Refusal::stripped);
            EXPECT_EQ(wb.delay_ms(), 0);    // no hold for data errors
            continue;
        }
        for (const auto &o : b->items) {
            written.push_back(o.id);
            if (o.id == 5) {
                EXPECT_FALSE(o.error);
            }
        }
        wb.written();
    }

    std::sort(written.begin(), written.end());
    EXPECT_EQ(written, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));
    EXPECT_TRUE(wb.empty());
}

TEST(WriteBack, SingleOutcomeRefusedWithoutTextIsDropped)
{
    WriteBack wb(10);
    wb.add(outcome(1, "x"));

    auto b = wb.take(0);
    ASSERT_TRUE(b);
    EXPECT_EQ(wb.refused(std::move(*b), true, 0), Refusal::stripped);
    b = wb.take(0);
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->items.front().error);
    EXPECT_EQ(wb.refused(std::move(*b), true, 0), Refusal::dropped);
    EXPECT_TRUE(wb.empty());
}

TEST(WriteBack, DataErrorClass)
{
    EXPECT_TRUE(WriteBack::data_error("22021"));
    EXPECT_TRUE(WriteBack::data_error("22P02"));
    EXPECT_FALSE(WriteBack::data_error("23505"));
    EXPECT_FALSE(WriteBack::data_error("40P01"));
    EXPECT_FALSE(WriteBack::data_error(""));
}
