#include <gtest/gtest.h>

#include "api/errors.hpp"

using namespace webpush::api;

TEST(ApiErrors, TableStatusesAndMessages)
{
    struct Row {
        ErrorCode code;
        const char* text;
        int status;
        const char* message;
    };
    const Row rows[] = {
        {ErrorCode::ProviderNotFound, "5001", 404,
         "The push notification provider was not found."},
        {ErrorCode::WrongGroupName, "5002", 400, "Wrong group name."},
        {ErrorCode::SubscriptionExists, "5003", 400,
         "Push notification subscription already exists."},
        {ErrorCode::ProviderHasSubscriptions, "5004", 400,
         "Unable to delete push notification provider while push "
         "notification subscription exists."},
        {ErrorCode::ProviderHasNotifications, "5005", 400,
         "Unable to delete push notification provider while push "
         "notification exists."},
        {ErrorCode::ProviderNameNotUniqueInRequest, "5006", 400,
         "A push notification provider with the same name already exists "
         "in request."},
        {ErrorCode::ProviderNameWrongLength, "5007", 400,
         "A push notification provider name must have length from 1 to 255 "
         "characters."},
        {ErrorCode::ProviderNameExists, "5008", 400,
         "A push notification provider with the same name already "
         "exists."},
        {ErrorCode::LocaleNotFound, "5009", 400,
         "Provided locale not found."},
        {ErrorCode::NotAllowedToSubscribe, "5010", 403,
         "Not allowed to subscribe to this push notification group."},
        {ErrorCode::WrongRequestBody, "5400", 400, "Wrong request body."},
    };
    for (const Row& r : rows) {
        Error e = make_error(r.code);
        EXPECT_EQ(e.code, r.text);
        EXPECT_EQ(e.status, r.status);
        EXPECT_EQ(e.message, r.message);
        EXPECT_TRUE(e.detail.empty());
    }
}

TEST(ApiErrors, Variants5400KeepReferenceMessage)
{
    Error a = invalid_payload_structure("p256dh is not on the P-256 curve");
    EXPECT_EQ(a.code, "5400");
    EXPECT_EQ(a.status, 400);
    EXPECT_EQ(a.message, "Invalid payload structure.");
    EXPECT_EQ(a.detail, "p256dh is not on the P-256 curve");
    EXPECT_EQ(payload_length_exceeded().message,
              "The maximum payload length exceeded.");
    EXPECT_EQ(wrong_request_body("x").message, "Wrong request body.");
}

TEST(ApiErrors, OneErrorGivesItsStatus)
{
    ErrorReply r = render_errors({make_error(ErrorCode::ProviderNotFound)});
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(r.body,
              "{\"errors\":[{\"code\":\"5001\",\"status\":404,\"message\":"
              "\"The push notification provider was not found.\"}]}");
}

TEST(ApiErrors, SeveralErrorsGive207)
{
    ErrorReply r = render_errors(
        {make_error(ErrorCode::ProviderHasNotifications),
         make_error(ErrorCode::ProviderHasSubscriptions)});
    EXPECT_EQ(r.status, 207);
    EXPECT_NE(r.body.find("\"code\":\"5005\""), std::string::npos);
    EXPECT_LT(r.body.find("5005"), r.body.find("5004"));
}

TEST(ApiErrors, DetailIsAnExtraMember)
{
    ErrorReply r = render_errors({wrong_request_body("bad \"x\"")});
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(r.body,
              "{\"errors\":[{\"code\":\"5400\",\"status\":400,\"message\":"
              "\"Wrong request body.\",\"detail\":\"bad \\\"x\\\"\"}]}");
}

TEST(ApiErrors, DetailWithInvalidUtf8IsSanitised)
{
    ErrorReply r = render_errors({wrong_request_body("near '\xff'")});
    EXPECT_EQ(r.status, 400);
    EXPECT_NE(r.body.find("near '\xef\xbf\xbd'"), std::string::npos);
}

TEST(ApiErrors, EmptyListIs500)
{
    ErrorReply r = render_errors({});
    EXPECT_EQ(r.status, 500);
    EXPECT_NE(r.body.find("\"errors\""), std::string::npos);
}

TEST(ApiErrors, CustomError)
{
    ErrorReply r = render_errors(
        {custom_error("5503", 503, "Database unavailable.")});
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body,
              "{\"errors\":[{\"code\":\"5503\",\"status\":503,\"message\":"
              "\"Database unavailable.\"}]}");
}

TEST(ApiErrors, InsertInCodeOrder)
{
    ErrorList l = {make_error(ErrorCode::WrongGroupName),
                   make_error(ErrorCode::LocaleNotFound),
                   invalid_payload_structure()};
    insert_in_code_order(l, make_error(ErrorCode::SubscriptionExists));
    insert_in_code_order(l, make_error(ErrorCode::ProviderNotFound));
    ASSERT_EQ(l.size(), 5u);
    EXPECT_EQ(l[0].code, "5001");
    EXPECT_EQ(l[1].code, "5002");
    EXPECT_EQ(l[2].code, "5003");
    EXPECT_EQ(l[3].code, "5009");
    EXPECT_EQ(l[4].code, "5400");
    ErrorList empty;
    insert_in_code_order(empty, make_error(ErrorCode::ProviderNotFound));
    EXPECT_EQ(empty.size(), 1u);
}
