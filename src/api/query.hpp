// Query string of GET /push-notification-providers: paging and sorting.
// The ORDER BY text is assembled from fixed strings only, so a sort field
// can never reach SQL (the reference puts it there unchecked).

#ifndef WEBPUSH_API_QUERY_HPP
#define WEBPUSH_API_QUERY_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/errors.hpp"

namespace webpush::api {

inline constexpr std::uint64_t kMaxPageLimit = 1000;

struct Page {
    std::uint64_t offset = 0;
    std::uint64_t limit = 0;  // at most kMaxPageLimit (larger is capped)
};

struct CollectionQuery {
    // Set only when both page[offset] and page[limit] are given, as in the
    // reference; one alone is still checked but otherwise ignored.
    std::optional<Page> page;
    // "" or e.g. "name ASC, uuid DESC": columns of
    // spy_push_notification_provider, ready to follow "ORDER BY ".
    std::string order_by;
};

struct QueryResult {
    std::optional<CollectionQuery> query;  // set exactly when no errors
    ErrorList errors;                      // one 5400 with a detail
};

// args: the raw query string without "?" (r->args). Keys and values are
// percent-decoded ("page%5Boffset%5D" works, "+" is a space in values).
// page values: decimal digits only, at most 18 of them. sort: a comma
// list of name, -name, uuid, -uuid. Other parameters are ignored (the
// reference ignores them too); a repeated parameter: the last one counts.
QueryResult parse_collection_query(std::string_view args);

}  // namespace webpush::api

#endif
