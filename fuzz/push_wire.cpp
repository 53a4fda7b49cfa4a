// The push client's wire rules (push/wire.hpp).  The input is lines:
// the first is "status version" for the response, the others header
// lines "name: value" fed to ResponseHead::add, then decide_framing.
// The same lines, as request headers of a PushRequest whose host is the
// first line, go to write_request.

#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "push/wire.hpp"

using namespace webpush::push;

namespace {

std::vector<std::string_view> lines(std::string_view in)
{
    std::vector<std::string_view> out;
    while (!in.empty()) {
        std::size_t nl = in.find('\n');
        out.push_back(in.substr(0, nl));
        if (nl == std::string_view::npos) {
            break;
        }
        in.remove_prefix(nl + 1);
    }
    return out;
}

void response(const std::vector<std::string_view>& ls)
{
    unsigned status = 0;
    unsigned version = 1001;
    if (!ls.empty()) {
        for (char ch : ls[0].substr(0, 3)) {
            status = status * 10 + static_cast<unsigned char>(ch) % 10;
        }
        if (ls[0].size() > 4) {
            version = 1000 + static_cast<unsigned char>(ls[0][4]) % 3;
        }
    }

    ResponseHead head;
    for (std::size_t i = 1; i < ls.size(); i++) {
        std::size_t colon = ls[i].find(':');
        std::string_view name = ls[i].substr(0, colon);
        std::string_view value = colon == std::string_view::npos
                                 ? std::string_view()
                                 : ls[i].substr(colon + 1);
        ResponseHead before = head;
        Kept kept = Kept::none;
        const char* error = head.add(name, value, &kept);
        if (error != nullptr) {
            FUZZ_CHECK(iequals(name, "content-length"), "error names CL");
            FUZZ_CHECK(head.content_length == before.content_length,
                       "a refused length is not taken");
        }
        if (kept != Kept::none) {
            FUZZ_CHECK(head.content_length == before.content_length
                       && head.te_chunked == before.te_chunked
                       && head.conn_close == before.conn_close,
                       "a kept header is no framing header");
        }
        FUZZ_CHECK(head.content_length >= -1, "length -1 or positive");
    }

    Framing f = decide_framing(status, version, head);

    if (f.body == Body::until_close || interim(status) || status < 200) {
        FUZZ_CHECK(!f.reusable, "no reuse without a delimited answer");
    }
    if (head.conn_close) {
        FUZZ_CHECK(!f.reusable, "Connection: close is honoured");
    }
    if (f.body == Body::chunked) {
        FUZZ_CHECK(head.te_chunked, "chunked only when announced");
        if (head.content_length != -1 || head.te_other) {
            FUZZ_CHECK(!f.reusable, "smuggling signs close");
        }
    }
    if (f.body == Body::length) {
        FUZZ_CHECK(f.length > 0 && f.length == head.content_length,
                   "length from Content-Length");
    }
}

void request(const std::vector<std::string_view>& ls)
{
    PushRequest r;
    r.target.host = ls.empty() ? std::string() : std::string(ls[0]);
    r.target.port = static_cast<in_port_t>(r.target.host.size() * 331);
    r.target.path = "/p";
    r.body = "b";
    for (std::size_t i = 1; i < ls.size(); i++) {
        std::size_t colon = ls[i].find(':');
        std::string value = colon == std::string_view::npos
                            ? std::string()
                            : std::string(ls[i].substr(colon + 1));
        // the input has no '\n' left: a NUL makes a CR
        for (char& ch : value) {
            if (ch == '\0') {
                ch = '\r';
            }
        }
        r.headers.emplace_back(std::string(ls[i].substr(0, colon)), value);
    }

    // the caller writes only names it checked (DNS names, IP literals)
    std::string name = host_name(r.target.host);
    if (!valid_name(name)
        && name.find_first_not_of("0123456789abcdef:.") != std::string::npos) {
        name = "push.example";
    }
    // HTTP/2: the same checks, lowercase names, no forbidden field
    std::vector<Field> fields;
    std::string h2_error = request_fields(r, name, fields);
    if (h2_error.empty()) {
        FUZZ_CHECK(fields.size() >= 5 && fields[0].first == ":method"
                   && fields.back().first == "content-length",
                   "pseudo-headers first, content-length last");
        for (std::size_t i = 4; i < fields.size(); i++) {
            const std::string& f = fields[i].first;
            FUZZ_CHECK(f.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                           == std::string::npos
                       && f != "connection" && f != "transfer-encoding"
                       && f != "host" && f != "te",
                       "lowercase, no connection-specific field");
            FUZZ_CHECK(valid_value(fields[i].second), "a valid value");
        }
    }

    std::string out;
    std::string error = write_request(r, name, r.headers.size() % 2, out);
    FUZZ_CHECK(error.empty() == h2_error.empty()
               && error == check_headers(r),
               "HTTP/1.1, HTTP/2 and the check refuse the same requests");
    if (!error.empty()) {
        FUZZ_CHECK(error.rfind("invalid request: bad header \"", 0) == 0,
                   "the error names a header");
        return;
    }

    // the head ends at the first empty line, and the body follows it
    std::size_t end = out.find("\r\n\r\n");
    FUZZ_CHECK(end != std::string::npos, "a header block");
    FUZZ_CHECK(out.substr(end + 4) == "b", "the body after the head");

    std::string_view head(out.data(), end + 2);
    std::size_t count = 0;
    std::size_t cl = 0;
    while (!head.empty()) {
        std::size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        FUZZ_CHECK(line.find('\r') == std::string_view::npos
                   && line.find('\n') == std::string_view::npos
                   && line.find('\0') == std::string_view::npos,
                   "no control characters inside a line");
        if (count > 0 && iequals(line.substr(0, line.find(':')),
                                 "content-length")) {
            cl++;
        }
        count++;
        head.remove_prefix(eol + 2);
    }
    FUZZ_CHECK(cl == 1, "exactly one Content-Length");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::vector<std::string_view> ls = lines(webpush_fuzz::as_view(data,
                                                                   size));
    response(ls);
    request(ls);
    return 0;
}
