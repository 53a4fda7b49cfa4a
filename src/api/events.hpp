// The body of an engagement report (webpush_events):
//
//   {"type":"shown"|"clicked"|"closed","event":"<token>"}
//
// a plain JSON object, not a JSON:API document: the service worker sends
// it with a keepalive fetch and never reads the answer.  Other members are
// ignored (a later kit may send more).  The token is only read here; the
// handler checks it (crypto/event_token.hpp).  Pure C++ (jansson).

#ifndef WEBPUSH_API_EVENTS_HPP
#define WEBPUSH_API_EVENTS_HPP

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "api/errors.hpp"

namespace webpush::api {

// A report is a few dozen bytes; more is not one.
inline constexpr std::size_t kMaxEventReport = 1024;

enum class EventType { shown, clicked, closed };

// "shown", "clicked", "closed": the name in reports and in the database
const char* event_type_name(EventType t) noexcept;

struct EventReport {
    EventType type = EventType::shown;
    std::string token;
};

struct EventReportResult {
    std::optional<EventReport> report;
    Error error;                // 400 / 5400 with a detail, when no report
};

// Reasons (the detail of the 5400): "empty request body", "request body
// larger than 1024 bytes", "invalid JSON: ...", "the body must be a JSON
// object", "\"type\" must be \"shown\", \"clicked\" or \"closed\"",
// "\"event\" must be a non-empty string (the payload's webpushEvent)".
EventReportResult parse_event_report(std::string_view body);

// The detail of a token that does not check out.
extern const char* const kEventTokenMalformed;
extern const char* const kEventTokenForged;

}  // namespace webpush::api

#endif
