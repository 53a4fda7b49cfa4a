#include "api/declarative.hpp"

#include <cmath>

namespace webpush::api {

namespace {

bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool digit(char c)
{
    return c >= '0' && c <= '9';
}

// spaces and ASCII control characters are never part of a URL we accept
bool clean(std::string_view s)
{
    for (char c : s) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f) {
            return false;
        }
    }
    return true;
}

// WHATWG's forbidden host code points (besides those clean() refuses);
// ":" "[" "]" are handled by the caller.
bool forbidden_host_char(char c)
{
    switch (c) {
    case '#': case '%': case '/': case '<': case '>': case '?': case '@':
    case '\\': case '^': case '|':
        return true;
    default:
        return false;
    }
}

bool valid_port(std::string_view p)
{
    if (p.empty()) {
        return true;  // "host:" is the default port
    }
    if (p.size() > 5) {
        return false;
    }
    long v = 0;
    for (char c : p) {
        if (!digit(c)) {
            return false;
        }
        v = v * 10 + (c - '0');
    }
    return v <= 65535;
}

std::string quoted(std::string_view label, std::string_view member)
{
    std::string s = "\"";
    s += label;
    s += '.';
    s += member;
    s += '"';
    return s;
}

bool non_empty_string(const json_t* v)
{
    return json_is_string(v) && json_string_length(v) > 0;
}

std::string_view sv(const json_t* s)
{
    return std::string_view(json_string_value(s), json_string_length(s));
}

void check_badge(json_t* obj, const std::string& label,
                 std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, "app_badge");
    if (v == nullptr) {
        return;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        problems.push_back(quoted(label, "app_badge")
                           + " must be an integer >= 0");
    }
}

void check_mutable(json_t* obj, const std::string& label,
                   std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, "mutable");
    if (v != nullptr && !json_is_boolean(v)) {
        problems.push_back(quoted(label, "mutable") + " must be a boolean");
    }
}

void check_optional_string(json_t* obj, const char* key,
                           const std::string& label,
                           std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, key);
    if (v != nullptr && !json_is_string(v)) {
        problems.push_back(quoted(label, key) + " must be a string");
    }
}

void check_optional_url(json_t* obj, const char* key,
                        const std::string& label,
                        std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, key);
    if (v != nullptr && !(json_is_string(v) && absolute_url(sv(v)))) {
        problems.push_back(quoted(label, key) + " must be an absolute URL");
    }
}

void check_navigate(json_t* obj, const std::string& label,
                    std::vector<std::string>& problems)
{
    json_t* v = json_object_get(obj, "navigate");
    if (!(json_is_string(v) && absolute_https_url(sv(v)))) {
        problems.push_back(quoted(label, "navigate")
                           + " must be an absolute https: URL");
    }
}

void check_actions(json_t* n, const std::string& label,
                   std::vector<std::string>& problems)
{
    json_t* actions = json_object_get(n, "actions");
    if (actions == nullptr) {
        return;
    }
    if (!json_is_array(actions)) {
        problems.push_back(quoted(label, "actions") + " must be an array");
        return;
    }
    std::size_t i;
    json_t* a;
    json_array_foreach(actions, i, a) {
        std::string al = label + ".actions[" + std::to_string(i) + "]";
        if (!json_is_object(a)) {
            problems.push_back("\"" + al + "\" must be an object");
            continue;
        }
        if (!non_empty_string(json_object_get(a, "title"))) {
            problems.push_back(quoted(al, "title")
                               + " must be a non-empty string");
        }
        check_navigate(a, al, problems);
        check_optional_string(a, "action", al, problems);
        check_optional_url(a, "icon", al, problems);
    }
}

}  // namespace

bool absolute_url(std::string_view url) noexcept
{
    std::size_t colon = url.find(':');
    if (colon == std::string_view::npos || colon == 0
        || colon + 1 == url.size() || !alpha(url[0]) || !clean(url)) {
        return false;
    }
    for (std::size_t i = 1; i < colon; i++) {
        char c = url[i];
        if (!alpha(c) && !digit(c) && c != '+' && c != '-' && c != '.') {
            return false;
        }
    }
    return true;
}

bool absolute_https_url(std::string_view url) noexcept
{
    static constexpr std::string_view kScheme = "https://";
    if (url.size() <= kScheme.size() || !clean(url)) {
        return false;
    }
    for (std::size_t i = 0; i < kScheme.size(); i++) {
        char c = url[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != kScheme[i]) {
            return false;
        }
    }
    std::string_view rest = url.substr(kScheme.size());
    std::string_view authority = rest.substr(0, rest.find_first_of("/?#\\"));
    std::size_t at = authority.rfind('@');
    std::string_view hostport =
        at == std::string_view::npos ? authority : authority.substr(at + 1);

    std::string_view host;
    std::string_view port;
    if (!hostport.empty() && hostport[0] == '[') {
        std::size_t close = hostport.find(']');
        if (close == std::string_view::npos || close < 2) {
            return false;
        }
        for (std::size_t i = 1; i < close; i++) {
            char c = hostport[i];
            if (!digit(c) && !alpha(c) && c != ':' && c != '.') {
                return false;
            }
        }
        host = hostport.substr(0, close + 1);
        std::string_view after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                return false;
            }
            port = after.substr(1);
        }
    } else {
        std::size_t c = hostport.find(':');
        host = hostport.substr(0, c);
        if (c != std::string_view::npos) {
            port = hostport.substr(c + 1);
        }
        for (char h : host) {
            if (forbidden_host_char(h) || h == '[' || h == ']') {
                return false;
            }
        }
    }
    // a host made only of dots ("." or "..") is empty once normalised
    return !host.empty() && host.find_first_not_of('.') != std::string::npos
           && valid_port(port);
}

bool is_declarative_payload(const json_t* payload) noexcept
{
    if (!json_is_object(payload)) {
        return false;
    }
    json_t* v = json_object_get(payload, "web_push");
    if (json_is_integer(v)) {
        return json_integer_value(v) == kDeclarativeWebPush;
    }
    if (json_is_real(v)) {
        double d = std::trunc(json_real_value(v));
        return d == static_cast<double>(kDeclarativeWebPush);
    }
    return false;
}

void check_declarative_payload(const json_t* payload, std::string_view label,
                               std::vector<std::string>& problems)
{
    if (!is_declarative_payload(payload)) {
        return;
    }
    // jansson's getters take a non-const object but do not change it
    json_t* p = const_cast<json_t*>(payload);
    const std::string top(label);

    check_badge(p, top, problems);
    check_mutable(p, top, problems);

    json_t* n = json_object_get(p, "notification");
    if (!json_is_object(n)) {
        problems.push_back(quoted(top, "notification")
                           + " must be an object (Declarative Web Push, "
                             "\"web_push\": 8030)");
        return;
    }
    const std::string nl = top + ".notification";

    if (!non_empty_string(json_object_get(n, "title"))) {
        problems.push_back(quoted(nl, "title")
                           + " must be a non-empty string");
    }
    check_navigate(n, nl, problems);
    check_actions(n, nl, problems);
    check_badge(n, nl, problems);
    check_mutable(n, nl, problems);

    json_t* dir = json_object_get(n, "dir");
    if (dir != nullptr
        && !(json_is_string(dir)
             && (sv(dir) == "auto" || sv(dir) == "ltr" || sv(dir) == "rtl"))) {
        problems.push_back(quoted(nl, "dir")
                           + " must be \"auto\", \"ltr\" or \"rtl\"");
    }
    check_optional_string(n, "lang", nl, problems);
    check_optional_string(n, "body", nl, problems);
    check_optional_string(n, "tag", nl, problems);
    check_optional_url(n, "icon", nl, problems);
    json_t* silent = json_object_get(n, "silent");
    if (silent != nullptr && !json_is_boolean(silent)) {
        problems.push_back(quoted(nl, "silent") + " must be a boolean");
    }
}

}  // namespace webpush::api
