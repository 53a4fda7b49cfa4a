// The body of an engagement report (src/api/events.hpp).

#include <gtest/gtest.h>

#include "api/events.hpp"

using namespace webpush::api;

namespace {

std::string detail(std::string_view body)
{
    EventReportResult r = parse_event_report(body);
    EXPECT_FALSE(r.report) << body;
    EXPECT_EQ(r.error.code, "5400");
    EXPECT_EQ(r.error.status, 400);
    return r.error.detail;
}

}  // namespace

TEST(EventReport, TheThreeTypes)
{
    for (auto [name, type] : {std::pair{"shown", EventType::shown},
                              {"clicked", EventType::clicked},
                              {"closed", EventType::closed}}) {
        std::string body = std::string("{\"type\":\"") + name
                           + "\",\"event\":\"tok\"}";
        EventReportResult r = parse_event_report(body);
        ASSERT_TRUE(r.report) << body;
        EXPECT_EQ(r.report->type, type);
        EXPECT_EQ(r.report->token, "tok");
        EXPECT_STREQ(event_type_name(type), name);
    }
}

TEST(EventReport, OtherMembersAreIgnored)
{
    EventReportResult r = parse_event_report(
        "{\"event\":\"t\",\"at\":123,\"type\":\"closed\",\"x\":[1]}");
    ASSERT_TRUE(r.report);
    EXPECT_EQ(r.report->type, EventType::closed);
}

TEST(EventReport, Refused)
{
    EXPECT_EQ(detail(""), "empty request body");
    EXPECT_EQ(detail(std::string(1025, ' ')),
              "request body larger than 1024 bytes");
    EXPECT_EQ(detail("{").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(detail("{\"type\":\"shown\",").rfind("invalid JSON: ", 0), 0u);
    EXPECT_EQ(detail("type=shown&event=x").rfind("invalid JSON: ", 0), 0u);

    const std::string bad_type =
        "\"type\" must be \"shown\", \"clicked\" or \"closed\"";
    EXPECT_EQ(detail("{\"event\":\"t\"}"), bad_type);
    EXPECT_EQ(detail("{\"type\":\"opened\",\"event\":\"t\"}"), bad_type);
    EXPECT_EQ(detail("{\"type\":\"Shown\",\"event\":\"t\"}"), bad_type);
    EXPECT_EQ(detail("{\"type\":1,\"event\":\"t\"}"), bad_type);
    EXPECT_EQ(detail("{\"type\":[\"shown\"],\"event\":\"t\"}"), bad_type);

    const std::string bad_event =
        "\"event\" must be a non-empty string (the payload's webpushEvent)";
    EXPECT_EQ(detail("{\"type\":\"shown\"}"), bad_event);
    EXPECT_EQ(detail("{\"type\":\"shown\",\"event\":\"\"}"), bad_event);
    EXPECT_EQ(detail("{\"type\":\"shown\",\"event\":null}"), bad_event);
    EXPECT_EQ(detail("{\"type\":\"shown\",\"event\":42}"), bad_event);

    // a repeated member is not a report one can read one way only
    EXPECT_NE(detail("{\"type\":\"shown\",\"type\":\"clicked\","
                     "\"event\":\"t\"}").find("duplicate"),
              std::string::npos);
}

TEST(EventReport, NotAnObject)
{
    for (const char *body : {"[]", "[{\"type\":\"shown\"}]", "\"shown\"",
                             "42", "null"}) {
        std::string d = detail(body);
        EXPECT_TRUE(d == "the body must be a JSON object"
                    || d.rfind("invalid JSON: ", 0) == 0) << body << ": " << d;
    }
}
