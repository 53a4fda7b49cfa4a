#include "api/events.hpp"

#include "util/json.hpp"

namespace webpush::api {

const char* const kEventTokenMalformed =
    "\"event\" is not an event token (44 base64url characters)";
const char* const kEventTokenForged =
    "\"event\" is not a token this server signed";

namespace {

EventReportResult fail(std::string detail)
{
    return EventReportResult{std::nullopt,
                             wrong_request_body(std::move(detail))};
}

std::string_view string_of(json_t* j)
{
    return std::string_view(json_string_value(j), json_string_length(j));
}

}  // namespace

const char* event_type_name(EventType t) noexcept
{
    switch (t) {
    case EventType::shown:
        return "shown";
    case EventType::clicked:
        return "clicked";
    case EventType::closed:
        return "closed";
    }
    return "shown";
}

EventReportResult parse_event_report(std::string_view body)
{
    try {
        if (body.empty()) {
            return fail("empty request body");
        }
        if (body.size() > kMaxEventReport) {
            return fail("request body larger than "
                        + std::to_string(kMaxEventReport) + " bytes");
        }

        json_error_t err;
        util::JsonPtr root(json_loadb(body.data(), body.size(),
                                      JSON_REJECT_DUPLICATES, &err));
        if (!root) {
            return fail(std::string("invalid JSON: ") + err.text + " (line "
                        + std::to_string(err.line) + ", column "
                        + std::to_string(err.column) + ")");
        }
        if (!json_is_object(root.get())) {
            return fail("the body must be a JSON object");
        }

        EventReport report;
        json_t* type = json_object_get(root.get(), "type");
        std::string_view name = json_is_string(type) ? string_of(type) : "";

        if (name == "shown") {
            report.type = EventType::shown;
        } else if (name == "clicked") {
            report.type = EventType::clicked;
        } else if (name == "closed") {
            report.type = EventType::closed;
        } else {
            return fail("\"type\" must be \"shown\", \"clicked\" or"
                        " \"closed\"");
        }

        json_t* event = json_object_get(root.get(), "event");
        if (!json_is_string(event) || json_string_length(event) == 0) {
            return fail("\"event\" must be a non-empty string (the"
                        " payload's webpushEvent)");
        }
        report.token = std::string(string_of(event));

        return EventReportResult{std::move(report), {}};

    } catch (...) {
        return fail("out of memory");
    }
}

}  // namespace webpush::api
