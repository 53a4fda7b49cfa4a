#include "api/query.hpp"

namespace webpush::api {

namespace {

int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// false on a malformed escape ("%", "%G1").
bool percent_decode(std::string_view in, std::string& out)
{
    out.clear();
    for (std::size_t i = 0; i < in.size(); i++) {
        char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            if (i + 2 >= in.size()) {
                return false;
            }
            int hi = hex_value(in[i + 1]);
            int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0) {
                return false;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return true;
}

bool parse_count(const std::string& s, std::uint64_t& out)
{
    if (s.empty() || s.size() > 18) {
        return false;
    }
    std::uint64_t v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') {
            return false;
        }
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

QueryResult fail(std::string detail)
{
    QueryResult r;
    r.errors.push_back(wrong_request_body(std::move(detail)));
    return r;
}

}  // namespace

QueryResult parse_collection_query(std::string_view args)
{
    try {
        std::optional<std::string> offset_text;
        std::optional<std::string> limit_text;
        std::optional<std::string> sort_text;

        std::size_t pos = 0;
        while (pos <= args.size()) {
            std::size_t amp = args.find('&', pos);
            std::string_view pair = args.substr(
                pos, amp == std::string_view::npos ? amp : amp - pos);
            pos = amp == std::string_view::npos ? args.size() + 1 : amp + 1;
            if (pair.empty()) {
                continue;
            }
            std::size_t eq = pair.find('=');
            std::string key;
            std::string value;
            if (!percent_decode(pair.substr(0, eq), key)
                || (eq != std::string_view::npos
                    && !percent_decode(pair.substr(eq + 1), value))) {
                return fail("malformed percent-encoding in the query");
            }
            if (key == "page[offset]") {
                offset_text = value;
            } else if (key == "page[limit]") {
                limit_text = value;
            } else if (key == "sort") {
                sort_text = value;
            }
        }

        CollectionQuery q;
        Page page;
        if (offset_text && !parse_count(*offset_text, page.offset)) {
            return fail("page[offset] must be a non-negative integer");
        }
        if (limit_text && !parse_count(*limit_text, page.limit)) {
            return fail("page[limit] must be a non-negative integer");
        }
        if (offset_text && limit_text) {
            if (page.limit > kMaxPageLimit) {
                page.limit = kMaxPageLimit;
            }
            q.page = page;
        }

        if (sort_text) {
            std::string_view s = *sort_text;
            std::size_t start = 0;
            while (true) {
                std::size_t comma = s.find(',', start);
                std::string_view field = s.substr(
                    start,
                    comma == std::string_view::npos ? comma : comma - start);
                const char* sql = nullptr;
                if (field == "name") {
                    sql = "name ASC";
                } else if (field == "-name") {
                    sql = "name DESC";
                } else if (field == "uuid") {
                    sql = "uuid ASC";
                } else if (field == "-uuid") {
                    sql = "uuid DESC";
                } else {
                    return fail("unknown sort field; use name, -name, uuid "
                                "or -uuid");
                }
                if (!q.order_by.empty()) {
                    q.order_by += ", ";
                }
                q.order_by += sql;
                if (comma == std::string_view::npos) {
                    break;
                }
                start = comma + 1;
            }
        }
        QueryResult r;
        r.query = std::move(q);
        return r;
    } catch (...) {
        return fail("out of memory");
    }
}

}  // namespace webpush::api
