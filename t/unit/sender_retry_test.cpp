#include <gtest/gtest.h>

#include "sender/retry.hpp"

#include <cstring>
#include <vector>

using namespace webpush::sender;

namespace {

// Sun, 06 Nov 1994 08:49:37 GMT
const std::int64_t k1994 = 784111777;
// Wed, 01 May 2024 12:00:00 GMT
const std::int64_t k2024 = 1714564800;

// a fixed random source: always returns the bound times num/den,
// recording the bounds it was asked for
struct FixedRandom {
    std::uint64_t num;
    std::uint64_t den;
    std::vector<std::uint64_t>* bounds;

    std::uint64_t operator()(std::uint64_t bound) const
    {
        if (bounds != nullptr) {
            bounds->push_back(bound);
        }
        return bound / den * num;
    }
};

RandomSource fixed(std::uint64_t num, std::uint64_t den,
                   std::vector<std::uint64_t>* bounds = nullptr)
{
    return FixedRandom{num, den, bounds};
}

} // namespace

// --- HTTP dates --------------------------------------------------------------

TEST(SenderRetryDate, ImfFixdate)
{
    EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", k2024), k1994);
    EXPECT_EQ(parse_http_date("Wed, 01 May 2024 12:00:00 GMT", 0), k2024);
    EXPECT_EQ(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT", k2024), 0);
    EXPECT_EQ(parse_http_date("  Sun, 06 Nov 1994 08:49:37 GMT ", k2024),
              k1994);
}

TEST(SenderRetryDate, Rfc850)
{
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", k2024),
              k1994);
    EXPECT_EQ(parse_http_date("Wednesday, 01-May-24 12:00:00 GMT", k2024),
              k2024);
    // seen from 1990, "94" is four years ahead, not 96 years back
    EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT",
                              k1994 - 4 * 365 * 86400),
              k1994);
    // seen from 2024, "74" is 2074 (50 years ahead), "75" is 1975
    auto y2074 = parse_http_date("Monday, 01-Jan-74 00:00:00 GMT", k2024);
    auto y1975 = parse_http_date("Wednesday, 01-Jan-75 00:00:00 GMT", k2024);
    ASSERT_TRUE(y2074 && y1975);
    EXPECT_GT(*y2074, k2024);
    EXPECT_LT(*y1975, k2024);
    // a short day name is not RFC 850
    EXPECT_FALSE(parse_http_date("Sun, 06-Nov-94 08:49:37 GMT", k2024));
}

TEST(SenderRetryDate, Asctime)
{
    EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994", k2024), k1994);
    EXPECT_EQ(parse_http_date("Wed Nov 16 08:49:37 1994", k2024),
              k1994 + 10 * 86400);
    EXPECT_FALSE(parse_http_date("Sun Nov 6 08:49:37 1994", k2024));
    EXPECT_FALSE(parse_http_date("Sun Nov  6 08:49:37 94", k2024));
}

TEST(SenderRetryDate, CaseOfNames)
{
    EXPECT_EQ(parse_http_date("sun, 06 nov 1994 08:49:37 gmt", k2024), k1994);
}

TEST(SenderRetryDate, LeapDays)
{
    EXPECT_TRUE(parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", k2024));
    EXPECT_TRUE(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT", k2024));
    EXPECT_FALSE(parse_http_date("Wed, 29 Feb 2023 00:00:00 GMT", k2024));
    EXPECT_FALSE(parse_http_date("Thu, 29 Feb 1900 00:00:00 GMT", k2024));
    EXPECT_EQ(*parse_http_date("Fri, 01 Mar 2024 00:00:00 GMT", k2024)
                  - *parse_http_date("Thu, 29 Feb 2024 00:00:00 GMT", k2024),
              86400);
}

TEST(SenderRetryDate, Invalid)
{
    const char* bad[] = {
        "",
        "GMT",
        "Sun, 06 Nov 1994 08:49:37",          // no zone
        "Sun, 06 Nov 1994 08:49:37 UTC",      // not GMT
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "Sun, 6 Nov 1994 08:49:37 GMT",       // one-digit day
        "Sun, 06 Nov 94 08:49:37 GMT",        // two-digit year
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06 Nov 1994 08:49:37 GMT",   // long name, IMF layout
        "Sun, 06 Nov 1994 08:49:37 GMT junk",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sun Nov  6 08:49:37 1994 GMT",
        "1994-11-06T08:49:37Z",
    };
    for (const char* s : bad) {
        EXPECT_FALSE(parse_http_date(s, k2024)) << '"' << s << '"';
    }
}

// --- Retry-After -------------------------------------------------------------

TEST(SenderRetryAfter, DeltaSeconds)
{
    EXPECT_EQ(parse_retry_after("120", k2024), 120);
    EXPECT_EQ(parse_retry_after("0", k2024), 0);
    EXPECT_EQ(parse_retry_after(" 7\t", k2024), 7);
    EXPECT_EQ(parse_retry_after("007", k2024), 7);
    EXPECT_EQ(parse_retry_after("86400", k2024), 86400);
}

TEST(SenderRetryAfter, CappedToADay)
{
    EXPECT_EQ(parse_retry_after("86401", k2024), max_retry_after);
    EXPECT_EQ(parse_retry_after("99999999999999999999999999999", k2024),
              max_retry_after);
    EXPECT_EQ(parse_retry_after("Fri, 03 May 2024 12:00:00 GMT", k2024),
              max_retry_after);
}

TEST(SenderRetryAfter, Dates)
{
    EXPECT_EQ(parse_retry_after("Wed, 01 May 2024 12:00:30 GMT", k2024), 30);
    EXPECT_EQ(parse_retry_after("Wednesday, 01-May-24 12:01:00 GMT", k2024),
              60);
    EXPECT_EQ(parse_retry_after("Wed May  1 13:00:00 2024", k2024), 3600);
    // in the past: retry now
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", k2024), 0);
}

TEST(SenderRetryAfter, Garbage)
{
    const char* bad[] = {"", " ", "-1", "+5", "1.5", "12s", "1 2", "abc",
                         "0x10", "soon", "Sun, 06 Nov 1994"};
    for (const char* s : bad) {
        EXPECT_FALSE(parse_retry_after(s, k2024)) << '"' << s << '"';
    }
}

// --- classification ----------------------------------------------------------

TEST(SenderRetryClassify, Table)
{
    struct {
        unsigned status;
        Outcome outcome;
    } table[] = {
        {200, Outcome::sent},   {201, Outcome::sent},
        {202, Outcome::sent},   {204, Outcome::sent},
        {299, Outcome::sent},   {404, Outcome::gone},
        {410, Outcome::gone},   {400, Outcome::failed},
        {401, Outcome::failed}, {403, Outcome::failed},
        {405, Outcome::failed}, {406, Outcome::retry},
        {413, Outcome::failed}, {499, Outcome::failed},
        {429, Outcome::retry},  {500, Outcome::retry},
        {502, Outcome::retry},  {503, Outcome::retry},
        {504, Outcome::retry},  {599, Outcome::retry},
        {0, Outcome::retry},    {100, Outcome::failed},
        {301, Outcome::failed}, {600, Outcome::failed},
    };
    for (const auto& row : table) {
        EXPECT_EQ(classify(row.status), row.outcome) << row.status;
    }
}

TEST(SenderRetryClassify, Names)
{
    EXPECT_STREQ(outcome_name(Outcome::sent), "sent");
    EXPECT_STREQ(outcome_name(Outcome::gone), "gone");
    EXPECT_STREQ(outcome_name(Outcome::failed), "failed");
    EXPECT_STREQ(outcome_name(Outcome::retry), "retry");
}

// --- backoff -----------------------------------------------------------------

TEST(SenderRetryBackoff, CeilingDoublesUpToCap)
{
    RetryPolicy p;
    std::vector<std::uint64_t> bounds;
    auto top = fixed(1, 1, &bounds);

    EXPECT_EQ(backoff_ms(p, 1, top), 1000);
    EXPECT_EQ(backoff_ms(p, 2, top), 2000);
    EXPECT_EQ(backoff_ms(p, 3, top), 4000);
    EXPECT_EQ(backoff_ms(p, 10, top), 512000);
    EXPECT_EQ(backoff_ms(p, 11, top), 600000);
    EXPECT_EQ(backoff_ms(p, 1000, top), 600000);
    EXPECT_EQ(bounds, (std::vector<std::uint64_t>{1000, 2000, 4000, 512000,
                                                  600000, 600000}));
}

TEST(SenderRetryBackoff, FullJitterBounds)
{
    RetryPolicy p;
    EXPECT_EQ(backoff_ms(p, 5, fixed(0, 1)), 0);
    EXPECT_EQ(backoff_ms(p, 5, fixed(1, 2)), 8000);

    // a misbehaving source cannot push the delay past the ceiling
    RandomSource wild = [](std::uint64_t) -> std::uint64_t {
        return ~std::uint64_t{0};
    };
    EXPECT_EQ(backoff_ms(p, 3, wild), 4000);

    // the real source stays within bounds
    auto real = default_random();
    for (unsigned n = 1; n < 20; n++) {
        std::int64_t d = backoff_ms(p, n, real);
        EXPECT_GE(d, 0);
        EXPECT_LE(d, 600000);
    }
}

TEST(SenderRetryBackoff, CustomPolicy)
{
    RetryPolicy p;
    p.base_ms = 250;
    p.cap_ms = 1000;
    auto top = fixed(1, 1);
    EXPECT_EQ(backoff_ms(p, 1, top), 250);
    EXPECT_EQ(backoff_ms(p, 2, top), 500);
    EXPECT_EQ(backoff_ms(p, 3, top), 1000);
    EXPECT_EQ(backoff_ms(p, 4, top), 1000);

    p.base_ms = 0;
    EXPECT_EQ(backoff_ms(p, 3, top), 0);
}

// --- TTL ---------------------------------------------------------------------

TEST(SenderRetryTtl, Shrinks)
{
    EXPECT_EQ(remaining_ttl(3600, 0), 3600);
    EXPECT_EQ(remaining_ttl(3600, 600), 3000);
    EXPECT_EQ(remaining_ttl(3600, 3599), 1);
    EXPECT_EQ(remaining_ttl(3600, 3600), 0);
    EXPECT_EQ(remaining_ttl(3600, 9999), 0);
    EXPECT_EQ(remaining_ttl(0, 0), 0);
    EXPECT_EQ(remaining_ttl(60, -5), 60);
}

// --- the whole decision ------------------------------------------------------

TEST(SenderRetryDecide, FinalOutcomes)
{
    RetryPolicy p;
    auto r = fixed(1, 1);

    Decision d = decide(p, 201, "", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::sent);

    d = decide(p, 410, "", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::gone);
    d = decide(p, 404, "", 3, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::gone);

    d = decide(p, 413, "", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_STREQ(d.reason, "payload too large");

    // Retry-After on a permanent failure changes nothing
    d = decide(p, 400, "5", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);
}

TEST(SenderRetryDecide, RetryWithBackoff)
{
    RetryPolicy p;
    std::vector<std::uint64_t> bounds;
    auto r = fixed(1, 1, &bounds);

    Decision d = decide(p, 503, "", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 1000);
    EXPECT_EQ(d.ttl, 3599);

    d = decide(p, 0, "", 3, 3600, 100, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 4000);
    EXPECT_EQ(d.ttl, 3496);
    EXPECT_STREQ(d.reason, "transport error");

    EXPECT_EQ(bounds, (std::vector<std::uint64_t>{1000, 4000}));
}

TEST(SenderRetryDecide, RetryAfterRaisesTheDelay)
{
    RetryPolicy p;
    auto r = fixed(1, 1);

    Decision d = decide(p, 429, "120", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 120000);
    EXPECT_EQ(d.ttl, 3480);
    EXPECT_STREQ(d.reason, "rate limited");

    d = decide(p, 503, "Wed, 01 May 2024 12:10:00 GMT", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.delay_ms, 600000);

    // a shorter Retry-After does not lower the backoff
    d = decide(p, 503, "1", 4, 3600, 0, k2024, r);
    EXPECT_EQ(d.delay_ms, 8000);

    // garbage is ignored
    d = decide(p, 503, "later", 1, 3600, 0, k2024, r);
    EXPECT_EQ(d.delay_ms, 1000);
}

TEST(SenderRetryDecide, AttemptsExhausted)
{
    RetryPolicy p;
    p.max_attempts = 3;
    auto r = fixed(0, 1);

    EXPECT_EQ(decide(p, 500, "", 2, 3600, 0, k2024, r).outcome,
              Outcome::retry);
    Decision d = decide(p, 500, "", 3, 3600, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_STREQ(d.reason, "attempts exhausted");

    p.max_attempts = 1;
    EXPECT_EQ(decide(p, 0, "", 1, 3600, 0, k2024, r).outcome,
              Outcome::failed);
}

TEST(SenderRetryDecide, ExpiresInQueue)
{
    RetryPolicy p;
    auto r = fixed(0, 1);

    // 60 s of life, 59 already spent waiting, Retry-After 5: gone by then
    Decision d = decide(p, 429, "5", 1, 60, 59, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_STREQ(d.reason, "expired in queue");

    // a 1 s Retry-After uses up the last second as well
    d = decide(p, 429, "1", 1, 60, 59, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);

    // zero jitter, immediate retry, 1 s left
    d = decide(p, 500, "", 1, 60, 59, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 0);
    EXPECT_EQ(d.ttl, 1);

    // waited past the TTL
    d = decide(p, 500, "", 1, 60, 61, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);

    // TTL 0 means now or never: no retry
    d = decide(p, 500, "", 1, 0, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_STREQ(d.reason, "expired in queue");
}

TEST(SenderRetryDecide, TtlRoundsUp)
{
    RetryPolicy p;
    // a delay of 1500 ms out of 10 s leaves 8.5 s: sent as 9
    RandomSource r = [](std::uint64_t) -> std::uint64_t { return 1500; };
    p.base_ms = 2000;
    Decision d = decide(p, 502, "", 1, 10, 0, k2024, r);
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 1500);
    EXPECT_EQ(d.ttl, 9);
}

// issue 12 §6: what push services really answer

TEST(DecideAnswer, WnsThrottling406IsRetriedWithRetryAfter)
{
    RetryPolicy p;
    Answer a;
    a.status = 406;
    a.retry_after = "30";
    Decision d = decide(p, a, 1, 3600, 0, k2024, fixed(0, 1));
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 30000);
    EXPECT_STREQ(d.reason, "rate limited");
    EXPECT_EQ(classify(406), Outcome::retry);
}

TEST(DecideAnswer, AutopushErrno202RetriesAtOnce)
{
    RetryPolicy p;
    Answer a;
    a.status = 503;
    a.body = R"({"code":503,"errno":202,"error":"Service Unavailable"})";
    Decision d = decide(p, a, 2, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 0);
    EXPECT_STREQ(d.reason, "server busy, retry now");

    // still an attempt
    d = decide(p, a, 5, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::failed);

    // a Retry-After still wins
    a.retry_after = "3";
    d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.delay_ms, 3000);
}

TEST(DecideAnswer, AutopushErrno201BacksOff)
{
    RetryPolicy p;
    Answer a;
    a.status = 503;
    a.body = R"({"code":503,"errno":201})";
    Decision d = decide(p, a, 2, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::retry);
    EXPECT_EQ(d.delay_ms, 2000);
    EXPECT_STREQ(d.reason, "server error");

    // errno 202 only counts on a 503
    a.status = 500;
    a.body = R"({"errno":202})";
    d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.delay_ms, 1000);
}

TEST(DecideAnswer, PermanentFailureIsNotRetried)
{
    RetryPolicy p;
    Answer a;                       // no answer: a transport failure
    Decision d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::retry);

    a.permanent = true;             // the address was refused
    d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_EQ(d.delay_ms, 0);
    EXPECT_STREQ(d.reason, "not retried");

    // an answer speaks for itself
    a.status = 201;
    d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::sent);
}

TEST(DecideAnswer, RefusedCredentialsFail)
{
    RetryPolicy p;
    Answer a;
    a.status = 403;
    a.body = R"({"reason":"BadJwtToken"})";
    Decision d = decide(p, a, 1, 3600, 0, k2024, fixed(1, 1));
    EXPECT_EQ(d.outcome, Outcome::failed);
    EXPECT_STREQ(d.reason, "credentials refused");
    a.status = 401;
    EXPECT_EQ(decide(p, a, 1, 3600, 0, k2024, fixed(1, 1)).outcome,
              Outcome::failed);
}
