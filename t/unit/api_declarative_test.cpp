#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/declarative.hpp"
#include "api/requests.hpp"

using namespace webpush::api;

namespace {

const char kValid[] =
    "{\"web_push\":8030,\"notification\":{\"title\":\"Order shipped\","
    "\"body\":\"Your order 42 is on its way\",\"lang\":\"en-US\","
    "\"dir\":\"ltr\",\"tag\":\"order-42\",\"silent\":false,"
    "\"icon\":\"https://shop.example/icon.png\","
    "\"navigate\":\"https://shop.example/orders/42\","
    "\"app_badge\":3,\"mutable\":true,"
    "\"actions\":[{\"action\":\"track\",\"title\":\"Track\","
    "\"navigate\":\"https://shop.example/track/42\"},"
    "{\"title\":\"Help\",\"navigate\":\"https://help.shop.example/\"}],"
    "\"data\":{\"any\":[1,2]}},\"app_badge\":0,\"mutable\":false}";

webpush::util::JsonPtr parse(std::string_view text)
{
    json_error_t err;
    json_t* v = json_loadb(text.data(), text.size(), JSON_DECODE_ANY, &err);
    EXPECT_NE(v, nullptr) << text << ": " << err.text;
    return webpush::util::JsonPtr(v);
}

std::vector<std::string> check(std::string_view text,
                               std::string_view label = "payload")
{
    webpush::util::JsonPtr p = parse(text);
    std::vector<std::string> problems;
    check_declarative_payload(p.get(), label, problems);
    return problems;
}

// kValid with the notification member `member` replaced by `value`
// (or removed when value is empty)
std::string with_notification(const std::string& member,
                              const std::string& value)
{
    webpush::util::JsonPtr p = parse(kValid);
    json_t* n = json_object_get(p.get(), "notification");
    if (value.empty()) {
        json_object_del(n, member.c_str());
    } else {
        json_object_set_new(n, member.c_str(),
                            json_loads(value.c_str(), JSON_DECODE_ANY,
                                       nullptr));
    }
    return webpush::util::json_compact(p.get());
}

std::string with_top(const std::string& member, const std::string& value)
{
    webpush::util::JsonPtr p = parse(kValid);
    if (value.empty()) {
        json_object_del(p.get(), member.c_str());
    } else {
        json_object_set_new(p.get(), member.c_str(),
                            json_loads(value.c_str(), JSON_DECODE_ANY,
                                       nullptr));
    }
    return webpush::util::json_compact(p.get());
}

void expect_problem(const std::string& payload, const std::string& problem)
{
    std::vector<std::string> problems = check(payload);
    ASSERT_EQ(problems.size(), 1u) << payload;
    EXPECT_EQ(problems[0], problem) << payload;
}

}  // namespace

TEST(ApiDeclarative, ValidFull)
{
    EXPECT_TRUE(check(kValid).empty());
}

TEST(ApiDeclarative, ValidMinimal)
{
    EXPECT_TRUE(check("{\"web_push\":8030,\"notification\":{\"title\":\"T\","
                      "\"navigate\":\"https://a.example\"}}")
                    .empty());
    EXPECT_TRUE(check("{\"web_push\":8030.0,\"notification\":{\"title\":"
                      "\"T\",\"navigate\":\"HTTPS://a.example:8443/x?y#z\"}}")
                    .empty());
    EXPECT_TRUE(check("{\"web_push\":8030,\"notification\":{\"title\":\"T\","
                      "\"navigate\":\"https://u:p@[::1]:443/\","
                      "\"actions\":[]}}")
                    .empty());
}

TEST(ApiDeclarative, NotDeclarativeIsNotChecked)
{
    for (const char* p :
         {"{\"title\":\"Hi\"}", "{\"web_push\":8031,\"notification\":1}",
          "{\"web_push\":\"8030\",\"notification\":1}",
          "{\"web_push\":null}", "{\"notification\":{\"title\":\"\"}}",
          "[8030]", "8030"}) {
        webpush::util::JsonPtr v = parse(p);
        EXPECT_FALSE(is_declarative_payload(v.get())) << p;
        std::vector<std::string> problems;
        check_declarative_payload(v.get(), "payload", problems);
        EXPECT_TRUE(problems.empty()) << p;
    }
    webpush::util::JsonPtr v = parse(kValid);
    EXPECT_TRUE(is_declarative_payload(v.get()));
}

TEST(ApiDeclarative, Notification)
{
    const std::string msg = "\"payload.notification\" must be an object "
                            "(Declarative Web Push, \"web_push\": 8030)";
    expect_problem("{\"web_push\":8030}", msg);
    expect_problem("{\"web_push\":8030,\"notification\":null}", msg);
    expect_problem("{\"web_push\":8030,\"notification\":\"x\"}", msg);
    expect_problem("{\"web_push\":8030,\"notification\":[]}", msg);
}

TEST(ApiDeclarative, Title)
{
    const std::string msg =
        "\"payload.notification.title\" must be a non-empty string";
    for (const char* v : {"", "\"\"", "null", "1", "[\"T\"]", "{}"}) {
        expect_problem(with_notification("title", v), msg);
    }
}

TEST(ApiDeclarative, Navigate)
{
    const std::string msg =
        "\"payload.notification.navigate\" must be an absolute https: URL";
    for (const char* v :
         {"", "null", "42", "\"\"", "\"/orders/42\"", "\"orders/42\"",
          "\"http://shop.example/\"", "\"https://\"", "\"https:///x\"",
          "\"https:shop.example\"", "\"//shop.example/\"",
          "\"javascript:alert(1)\"", "\"https://shop example/\"",
          "\"https://shop.example/a b\"", "\"https://shop.example:99999/\"",
          "\"https://shop.example:8x/\"", "\"https://user@/\"",
          "\"https://a<b/\"", "\"https://[::1/\"", "\"https://./\"",
          "\" https://shop.example/\"", "\"https://shop.example/\\n\""}) {
        expect_problem(with_notification("navigate", v), msg);
    }
}

TEST(ApiDeclarative, Actions)
{
    expect_problem(with_notification("actions", "{}"),
                   "\"payload.notification.actions\" must be an array");
    expect_problem(with_notification("actions", "[1]"),
                   "\"payload.notification.actions[0]\" must be an object");
    expect_problem(
        with_notification("actions",
                          "[{\"title\":\"A\",\"navigate\":\"https://a.b/\"},"
                          "{\"title\":\"B\",\"navigate\":\"http://a.b/\"}]"),
        "\"payload.notification.actions[1].navigate\" must be an absolute "
        "https: URL");
    expect_problem(
        with_notification("actions", "[{\"title\":\"B\"}]"),
        "\"payload.notification.actions[0].navigate\" must be an absolute "
        "https: URL");
    expect_problem(
        with_notification("actions",
                          "[{\"navigate\":\"https://a.b/\",\"title\":\"\"}]"),
        "\"payload.notification.actions[0].title\" must be a non-empty "
        "string");
    expect_problem(
        with_notification("actions",
                          "[{\"navigate\":\"https://a.b/\",\"title\":\"T\","
                          "\"action\":7}]"),
        "\"payload.notification.actions[0].action\" must be a string");
    expect_problem(
        with_notification("actions",
                          "[{\"navigate\":\"https://a.b/\",\"title\":\"T\","
                          "\"icon\":\"icon.png\"}]"),
        "\"payload.notification.actions[0].icon\" must be an absolute URL");
    // both members of one action
    std::vector<std::string> p =
        check(with_notification("actions", "[{}]"));
    EXPECT_EQ(p.size(), 2u);
}

TEST(ApiDeclarative, AppBadge)
{
    for (const char* v : {"-1", "1.5", "\"3\"", "null", "true", "[]"}) {
        expect_problem(with_top("app_badge", v),
                       "\"payload.app_badge\" must be an integer >= 0");
        expect_problem(
            with_notification("app_badge", v),
            "\"payload.notification.app_badge\" must be an integer >= 0");
    }
    EXPECT_TRUE(check(with_top("app_badge", "9007199254740993")).empty());
    EXPECT_TRUE(check(with_top("app_badge", "")).empty());
    EXPECT_TRUE(check(with_notification("app_badge", "")).empty());
}

TEST(ApiDeclarative, OtherMembers)
{
    expect_problem(with_top("mutable", "1"),
                   "\"payload.mutable\" must be a boolean");
    expect_problem(with_notification("mutable", "\"yes\""),
                   "\"payload.notification.mutable\" must be a boolean");
    expect_problem(with_notification("dir", "\"up\""),
                   "\"payload.notification.dir\" must be \"auto\", \"ltr\" "
                   "or \"rtl\"");
    expect_problem(with_notification("body", "1"),
                   "\"payload.notification.body\" must be a string");
    expect_problem(with_notification("lang", "null"),
                   "\"payload.notification.lang\" must be a string");
    expect_problem(with_notification("tag", "{}"),
                   "\"payload.notification.tag\" must be a string");
    expect_problem(with_notification("icon", "\"/icon.png\""),
                   "\"payload.notification.icon\" must be an absolute URL");
    expect_problem(with_notification("silent", "0"),
                   "\"payload.notification.silent\" must be a boolean");
    EXPECT_TRUE(check(with_notification("icon", "\"data:image/png;base64,"
                                                "AAAA\""))
                    .empty());
}

TEST(ApiDeclarative, EveryProblemAndLabel)
{
    std::vector<std::string> p = check(
        "{\"web_push\":8030,\"app_badge\":-2,\"notification\":{}}",
        "localizedPayloads.de_DE");
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0], "\"localizedPayloads.de_DE.app_badge\" must be an "
                    "integer >= 0");
    EXPECT_EQ(p[1], "\"localizedPayloads.de_DE.notification.title\" must be "
                    "a non-empty string");
    EXPECT_EQ(p[2], "\"localizedPayloads.de_DE.notification.navigate\" must "
                    "be an absolute https: URL");
}

TEST(ApiDeclarative, Urls)
{
    EXPECT_TRUE(absolute_https_url("https://a"));
    EXPECT_TRUE(absolute_https_url("https://a:/"));
    EXPECT_TRUE(absolute_https_url("https://xn--bcher-kva.example/ä"));
    EXPECT_FALSE(absolute_https_url("https://a:65536"));
    // WHATWG reads "\\" as "/" in an https: URL
    EXPECT_TRUE(absolute_https_url("https://a\\b"));
    EXPECT_FALSE(absolute_https_url("https://[]"));
    EXPECT_TRUE(absolute_url("mailto:x@y"));
    EXPECT_TRUE(absolute_url("web+app:x"));
    EXPECT_FALSE(absolute_url("1http://x"));
    EXPECT_FALSE(absolute_url("http:"));
    EXPECT_FALSE(absolute_url(":x"));
}

// the call site: POST /push-notifications
TEST(ApiDeclarative, NotificationRequest)
{
    auto post = [](const std::string& payload) {
        std::string b =
            "{\"data\":{\"type\":\"push-notifications\",\"attributes\":{"
            "\"providerName\":\"p\",\"group\":{\"name\":\"g\"},"
            "\"payload\":" + payload + "}}}";
        return parse_notification_request(b.data(), b.size(), {});
    };
    NotificationValidation ok = post(kValid);
    EXPECT_TRUE(ok.errors.empty());
    EXPECT_TRUE(ok.usable);

    NotificationValidation bad = post(with_notification("navigate", ""));
    ASSERT_EQ(bad.errors.size(), 1u);
    EXPECT_EQ(bad.errors[0].code, "5400");
    EXPECT_EQ(bad.errors[0].status, 400);
    EXPECT_EQ(bad.errors[0].message, "Wrong request body.");
    EXPECT_EQ(bad.errors[0].detail,
              "\"payload.notification.navigate\" must be an absolute https: "
              "URL");

    NotificationValidation plain =
        post("{\"title\":\"\",\"navigate\":\"http://x\"}");
    EXPECT_TRUE(plain.errors.empty());
}
