#include "api/errors.hpp"

#include <cstdlib>

#include "util/json.hpp"

namespace webpush::api {

// the jansson helpers (util/json.hpp) are the API's vocabulary
using namespace webpush::util;

const char* const kMessageWrongRequestBody = "Wrong request body.";
const char* const kMessageInvalidPayloadStructure =
    "Invalid payload structure.";
const char* const kMessagePayloadLengthExceeded =
    "The maximum payload length exceeded.";

namespace {

struct TableEntry {
    ErrorCode code;
    int status;
    const char* message;
};

const TableEntry kTable[] = {
    {ErrorCode::ProviderNotFound, 404,
     "The push notification provider was not found."},
    {ErrorCode::WrongGroupName, 400, "Wrong group name."},
    {ErrorCode::SubscriptionExists, 400,
     "Push notification subscription already exists."},
    {ErrorCode::ProviderHasSubscriptions, 400,
     "Unable to delete push notification provider while push notification "
     "subscription exists."},
    {ErrorCode::ProviderHasNotifications, 400,
     "Unable to delete push notification provider while push notification "
     "exists."},
    {ErrorCode::ProviderNameNotUniqueInRequest, 400,
     "A push notification provider with the same name already exists in "
     "request."},
    {ErrorCode::ProviderNameWrongLength, 400,
     "A push notification provider name must have length from 1 to 255 "
     "characters."},
    {ErrorCode::ProviderNameExists, 400,
     "A push notification provider with the same name already exists."},
    {ErrorCode::LocaleNotFound, 400, "Provided locale not found."},
    {ErrorCode::NotAllowedToSubscribe, 403,
     "Not allowed to subscribe to this push notification group."},
    {ErrorCode::IdempotencyKeyReused, 409,
     "Idempotency key reused with a different request."},
    {ErrorCode::WrongRequestBody, 400, kMessageWrongRequestBody},
};

Error bad_request(const char* message, std::string detail)
{
    return Error{"5400", 400, message, std::move(detail)};
}

long numeric_code(const std::string& code)
{
    char* end = nullptr;
    long n = std::strtol(code.c_str(), &end, 10);
    if (end == code.c_str() || *end != '\0') {
        // Non-numeric codes sort last; the order among them is kept.
        return 0x7fffffffL;
    }
    return n;
}

}  // namespace

Error make_error(ErrorCode code, std::string detail)
{
    for (const TableEntry& t : kTable) {
        if (t.code == code) {
            return Error{std::to_string(static_cast<int>(code)), t.status,
                         t.message, std::move(detail)};
        }
    }
    // Unreachable for enum values; keeps the function total.
    return bad_request(kMessageWrongRequestBody, std::move(detail));
}

Error wrong_request_body(std::string detail)
{
    return bad_request(kMessageWrongRequestBody, std::move(detail));
}

Error invalid_payload_structure(std::string detail)
{
    return bad_request(kMessageInvalidPayloadStructure, std::move(detail));
}

Error payload_length_exceeded(std::string detail)
{
    return bad_request(kMessagePayloadLengthExceeded, std::move(detail));
}

Error custom_error(std::string code, int status, std::string message,
                   std::string detail)
{
    return Error{std::move(code), status, std::move(message),
                 std::move(detail)};
}

void insert_in_code_order(ErrorList& list, Error e)
{
    long n = numeric_code(e.code);
    auto it = list.begin();
    while (it != list.end() && numeric_code(it->code) <= n) {
        ++it;
    }
    list.insert(it, std::move(e));
}

ErrorReply render_errors(const ErrorList& list)
{
    static const char kFallback[] =
        "{\"errors\":[{\"code\":\"5500\",\"status\":500,"
        "\"message\":\"Internal error.\"}]}";
    try {
        if (list.empty()) {
            return ErrorReply{500, kFallback};
        }
        JsonPtr errors(json_array());
        for (const Error& e : list) {
            JsonPtr item(json_object());
            json_object_set_new(item.get(), "code", json_str(e.code));
            json_object_set_new(item.get(), "status",
                                json_integer(e.status));
            json_object_set_new(item.get(), "message", json_str(e.message));
            if (!e.detail.empty()) {
                json_object_set_new(item.get(), "detail",
                                    json_str(e.detail));
            }
            json_array_append(errors.get(), item.get());
        }
        JsonPtr root(json_object());
        json_object_set(root.get(), "errors", errors.get());
        std::string body = json_compact(root.get());
        if (body.empty()) {
            return ErrorReply{500, kFallback};
        }
        return ErrorReply{list.size() == 1 ? list.front().status : 207,
                          std::move(body)};
    } catch (...) {
        return ErrorReply{500, kFallback};
    }
}

}  // namespace webpush::api
