// The webpush_postgres connection string (db/conninfo.hpp): parse it, and
// check what the pool would hand to libpq for every attempt: each host of
// the list is tried, names need the resolver, a refusal says why.

#include <string>

#include "db/conninfo.hpp"
#include "fuzz_common.hpp"

using namespace webpush::db;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string in(webpush_fuzz::as_view(data, size));

    // libpq reads up to the terminating NUL
    if (in.find('\0') != std::string::npos) {
        return 0;
    }

    std::string error;
    std::optional<Conninfo> ci = parse_conninfo(in, error);

    if (!ci) {
        FUZZ_CHECK(!error.empty(), "a refusal says why");
        return 0;
    }

    FUZZ_CHECK(!ci->targets.empty(), "at least one host");
    FUZZ_CHECK(!ci->passes().empty(), "at least one walk over the hosts");
    FUZZ_CHECK(ci->needs_resolver() == !ci->first_name().empty(),
               "a name to resolve is named");

    const std::vector<std::string> addrs = {"192.0.2.1", "2001:db8::1"};

    for (const Target& t : ci->targets) {
        std::vector<Attempt> attempts = attempts_for(t, addrs);
        FUZZ_CHECK(!attempts.empty(), "every host is tried");

        for (const Attempt& a : attempts) {
            Keywords kw = ci->params(a, ci->passes().front(), 5000);
            bool has_options = false;
            for (const auto& [key, value] : kw) {
                FUZZ_CHECK(!key.empty(), "keywords are named");
                has_options = has_options || key == "options";
            }
            FUZZ_CHECK(has_options, "the server options are always set");
            (void) a.describe();
        }
    }

    return 0;
}
