// The request line's outside bytes: the query string of GET
// /push-notification-providers (parse_collection_query) and the path
// (parse_resource_path, uuid_syntax_ok). The whole input is both.

#include <string>

#include "api/jsonapi.hpp"
#include "api/query.hpp"
#include "api/uuid.hpp"
#include "fuzz_common.hpp"

using namespace webpush::api;

namespace {

// ORDER BY text may only be made of the four fixed fragments.
bool order_by_is_fixed(std::string_view s)
{
    if (s.empty()) {
        return true;
    }
    while (true) {
        bool ok = false;
        for (std::string_view f :
             {"name ASC", "name DESC", "uuid ASC", "uuid DESC"}) {
            if (s.substr(0, f.size()) == f) {
                s.remove_prefix(f.size());
                ok = true;
                break;
            }
        }
        if (!ok) {
            return false;
        }
        if (s.empty()) {
            return true;
        }
        if (s.substr(0, 2) != ", ") {
            return false;
        }
        s.remove_prefix(2);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);

    QueryResult q = parse_collection_query(in);
    FUZZ_CHECK(q.query.has_value() == q.errors.empty(), "query xor errors");
    if (q.query) {
        FUZZ_CHECK(order_by_is_fixed(q.query->order_by), "ORDER BY text");
        if (q.query->page) {
            FUZZ_CHECK(q.query->page->limit <= kMaxPageLimit, "limit cap");
            FUZZ_CHECK(q.query->page->offset < 1000000000000000000ULL,
                       "offset has at most 18 digits");
        }
    } else {
        FUZZ_CHECK(q.errors.size() == 1, "one 5400");
    }

    for (std::string_view type :
         {kTypeProviders, kTypeSubscriptions, kTypeNotifications}) {
        ResourcePath p = parse_resource_path(in, type);
        if (p.kind == ResourcePath::Item) {
            FUZZ_CHECK(!p.id.empty(), "item id");
            FUZZ_CHECK(p.id.find('/') == std::string_view::npos,
                       "id is one segment");
            FUZZ_CHECK(p.id.data() >= in.data()
                           && p.id.data() + p.id.size()
                                  <= in.data() + in.size(),
                       "id borrows from the uri");
            if (uuid_syntax_ok(p.id)) {
                FUZZ_CHECK(p.id.size() == 36, "uuid length");
            }
        } else {
            FUZZ_CHECK(p.id.empty(), "no id unless Item");
        }
    }
    uuid_syntax_ok(in);
    return 0;
}
