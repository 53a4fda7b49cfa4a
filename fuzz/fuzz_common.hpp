// Shared helpers of the libFuzzer targets in this directory.

#ifndef WEBPUSH_FUZZ_COMMON_HPP
#define WEBPUSH_FUZZ_COMMON_HPP

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <jansson.h>

// An invariant the code under test promises; a violation is a finding
// just like a crash, so it aborts (libFuzzer saves the input).
#define FUZZ_CHECK(cond, what)                                             \
    do {                                                                   \
        if (!(cond)) {                                                     \
            std::fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n",    \
                         __FILE__, __LINE__, #cond, what);                 \
            std::abort();                                                  \
        }                                                                  \
    } while (0)

namespace webpush_fuzz {

inline std::string_view as_view(const std::uint8_t* data, std::size_t size)
{
    return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Whatever the module writes as a reply body must be one JSON document.
inline bool parses_as_json(std::string_view text)
{
    json_error_t err;
    json_t* v = json_loadb(text.data(), text.size(),
                           JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    if (v == nullptr) {
        return false;
    }
    json_decref(v);
    return true;
}

}  // namespace webpush_fuzz

#endif
