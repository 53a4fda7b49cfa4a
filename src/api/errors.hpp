// The JSON:API error table (reference: spryker.md §1.2) and the rendering
// of an error list into an HTTP status and body.

#ifndef WEBPUSH_API_ERRORS_HPP
#define WEBPUSH_API_ERRORS_HPP

#include <string>
#include <string_view>
#include <vector>

namespace webpush::api {

enum class ErrorCode : int {
    ProviderNotFound = 5001,
    WrongGroupName = 5002,
    SubscriptionExists = 5003,
    ProviderHasSubscriptions = 5004,
    ProviderHasNotifications = 5005,
    ProviderNameNotUniqueInRequest = 5006,
    ProviderNameWrongLength = 5007,
    ProviderNameExists = 5008,
    LocaleNotFound = 5009,
    NotAllowedToSubscribe = 5010,  // beyond the reference: 403
    IdempotencyKeyReused = 5011,   // beyond the reference: 409
    WrongRequestBody = 5400,
};

// One entry of "errors". code is kept as text because the body carries it
// as a string and the handler may need codes outside the table (e.g. a 503
// when the database is down).
//
// detail: the reference only has a fixed en_US message per code, which
// clients may match on, so `message` always stays the reference text and a
// specific reason (e.g. "p256dh is not on the P-256 curve") goes into an
// extra member "detail", the JSON:API name for it. Omitted when empty.
struct Error {
    std::string code;
    int status = 400;
    std::string message;
    std::string detail;
};

using ErrorList = std::vector<Error>;

// The table entry for code, with the reference message (5007 with min=1,
// max=255 filled in). 5400 gives "Wrong request body.".
Error make_error(ErrorCode code, std::string detail = {});

// 5400 variants with the other reference messages.
Error wrong_request_body(std::string detail = {});
Error invalid_payload_structure(std::string detail = {});
Error payload_length_exceeded(std::string detail = {});

// Anything outside the table (the handler's 503, 404 for an unknown
// subscription...).
Error custom_error(std::string code, int status, std::string message,
                   std::string detail = {});

// Inserts e before the first entry whose numeric code is larger, so that
// errors the handler adds after validation (5001, 5003 from the database)
// end up in the reference's rule order 5001, 5002, 5003, 5009, 5400.
void insert_in_code_order(ErrorList& list, Error e);

struct ErrorReply {
    int status;
    std::string body;
};

// One error → its status; several → 207 Multi-Status; an empty list is a
// caller bug and gives 500 with a generic error rather than an empty body.
ErrorReply render_errors(const ErrorList& list);

// The en_US messages, exposed for tests and for the handler's logs.
extern const char* const kMessageWrongRequestBody;
extern const char* const kMessageInvalidPayloadStructure;
extern const char* const kMessagePayloadLengthExceeded;

}  // namespace webpush::api

#endif
