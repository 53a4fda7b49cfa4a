/*
 * The webpush_postgres connection string; see the header.
 */

#include "db/conninfo.hpp"

#include <libpq-fe.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>
#include <memory>


namespace webpush::db {

namespace {

constexpr std::string_view  session_attrs[] = {
    "any", "read-write", "read-only", "primary", "standby", "prefer-standby"
};


std::vector<std::string>
split(const std::string &list)
{
    std::vector<std::string> items;
    size_t start = 0;

    for (;;) {
        size_t comma = list.find(',', start);
        std::string item = list.substr(start, comma == std::string::npos
                                              ? std::string::npos
                                              : comma - start);

        while (!item.empty() && std::isspace((unsigned char) item.back())) {
            item.pop_back();
        }

        size_t lead = 0;
        while (lead < item.size()
               && std::isspace((unsigned char) item[lead]))
        {
            lead++;
        }

        items.push_back(item.substr(lead));

        if (comma == std::string::npos) {
            return items;
        }

        start = comma + 1;
    }
}


bool
is_ip_address(const std::string &s)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, s.c_str(), buf) == 1
           || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}


bool
iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) {
        return false;
    }

    for (size_t i = 0; i < a.size(); i++) {
        if (std::tolower((unsigned char) a[i])
            != std::tolower((unsigned char) b[i]))
        {
            return false;
        }
    }

    return true;
}


Target::Kind
kind_of(const std::string &host, const std::string &hostaddr)
{
    if (!hostaddr.empty()) {
        return Target::Kind::address;
    }

    if (host.empty()) {
        return Target::Kind::libpq_default;
    }

    if (host[0] == '/' || host[0] == '@') {
        return Target::Kind::socket;
    }

    if (is_ip_address(host)) {
        return Target::Kind::address;
    }

    if (iequals(host, "localhost") || iequals(host, "localhost.")) {
        return Target::Kind::localhost;
    }

    return Target::Kind::name;
}


/*
 * libpq's parse errors quote the text around the fault, which may be the
 * password (an unquoted space in it, a bad percent-escape in a URI): say
 * what kind of fault it is, never where.
 */
std::string
parse_failure(const char *libpq_message)
{
    std::string_view m = libpq_message ? libpq_message : "";

    if (m.empty()) {
        return "out of memory";
    }

    if (m.find("percent-encoded") != m.npos) {
        return "a bad percent-escape in the URI";
    }

    if (m.find("URI") != m.npos) {
        return "a malformed URI";
    }

    if (m.rfind("unterminated quoted string", 0) == 0) {
        return "an unterminated quoted value";
    }

    if (m.rfind("missing \"=\"", 0) == 0
        || m.rfind("invalid connection option", 0) == 0)
    {
        return "an unknown keyword or a word without \"=\" (quote values "
               "that contain spaces: password='...')";
    }

    return "it cannot be parsed";
}


struct OptionsDeleter {
    void operator()(PQconninfoOption *o) const noexcept { PQconninfoFree(o); }
};

} // namespace


std::string
Attempt::describe() const
{
    std::string s = host.empty() ? std::string("default socket") : host;

    if (!hostaddr.empty() && hostaddr != host) {
        s += " (" + hostaddr + ")";
    }

    if (!port.empty()) {
        s += " port " + port;
    }

    return s;
}


bool
Conninfo::needs_resolver() const
{
    return !first_name().empty();
}


std::string
Conninfo::first_name() const
{
    for (const Target &t : targets) {
        if (t.kind == Target::Kind::name) {
            return t.host;
        }
    }

    return std::string();
}


std::vector<std::string>
Conninfo::passes() const
{
    if (target_session_attrs == "prefer-standby") {
        return {"standby", "any"};
    }

    return {target_session_attrs};
}


Keywords
Conninfo::params(const Attempt &attempt, std::string_view session_attrs,
    unsigned long statement_timeout_ms) const
{
    Keywords p;
    std::string server_options;
    bool has_app_name = false;

    for (const auto &[key, value] : options) {
        if (key == "options") {
            server_options = value;
            continue;
        }

        if (key == "application_name") {
            has_app_name = true;
        }

        p.emplace_back(key, value);
    }

    if (!has_app_name) {
        p.emplace_back("application_name", "nginx-webpush");
    }

    /*
     * The server gives up on a statement when we would; timestamps are
     * written and formatted in UTC whatever the server's default.
     */
    server_options += " -c statement_timeout="
                      + std::to_string(statement_timeout_ms)
                      + " -c TimeZone=UTC -c client_min_messages=warning";
    p.emplace_back("options", server_options);

    if (!attempt.host.empty()) {
        p.emplace_back("host", attempt.host);
    }

    if (!attempt.hostaddr.empty()) {
        p.emplace_back("hostaddr", attempt.hostaddr);
    }

    if (!attempt.port.empty()) {
        p.emplace_back("port", attempt.port);
    }

    if (!session_attrs.empty()) {
        p.emplace_back("target_session_attrs", std::string(session_attrs));
    }

    return p;
}


std::optional<Conninfo>
parse_conninfo(const std::string &conninfo, std::string &error)
{
    char *err = nullptr;
    std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(
                                    PQconninfoParse(conninfo.c_str(), &err));

    if (!opts) {
        error = parse_failure(err);
        PQfreemem(err);
        return std::nullopt;
    }

    Conninfo ci;
    std::string host, hostaddr, port, timeout;

    for (PQconninfoOption *o = opts.get(); o->keyword != nullptr; o++) {
        if (o->val == nullptr) {
            continue;
        }

        std::string_view key = o->keyword;

        if (key == "host") {
            host = o->val;

        } else if (key == "hostaddr") {
            hostaddr = o->val;

        } else if (key == "port") {
            port = o->val;

        } else if (key == "target_session_attrs") {
            ci.target_session_attrs = o->val;

        } else if (key == "connect_timeout") {
            timeout = o->val;

        } else {
            ci.options.emplace_back(o->keyword, o->val);
        }
    }

    std::vector<std::string> hosts = split(host);
    std::vector<std::string> addrs;
    std::vector<std::string> ports = split(port);

    if (!hostaddr.empty()) {
        addrs = split(hostaddr);

        if (host.empty()) {
            hosts.assign(addrs.size(), std::string());

        } else if (addrs.size() != hosts.size()) {
            error = "could not match " + std::to_string(hosts.size())
                    + " host names to " + std::to_string(addrs.size())
                    + " hostaddr values";
            return std::nullopt;
        }
    }

    if (ports.size() != 1 && ports.size() != hosts.size()) {
        error = "could not match " + std::to_string(ports.size())
                + " port numbers to " + std::to_string(hosts.size())
                + " hosts";
        return std::nullopt;
    }

    for (const std::string &p : ports) {
        if (!p.empty() && p.find_first_not_of("0123456789") != p.npos) {
            error = "a port is not a number";
            return std::nullopt;
        }
    }

    for (size_t i = 0; i < hosts.size(); i++) {
        Target t;

        t.host = hosts[i];
        t.hostaddr = addrs.empty() ? std::string() : addrs[i];
        t.port = ports.size() == 1 ? ports[0] : ports[i];
        t.kind = kind_of(t.host, t.hostaddr);

        if (!t.hostaddr.empty() && !is_ip_address(t.hostaddr)) {
            error = "a hostaddr is not an IP address";
            return std::nullopt;
        }

        ci.targets.push_back(std::move(t));
    }

    const std::string &tsa = ci.target_session_attrs;

    if (!tsa.empty()) {
        bool known = false;

        for (std::string_view v : session_attrs) {
            known = known || tsa == v;
        }

        if (!known) {
            error = "target_session_attrs is none of any, read-write, "
                    "read-only, primary, standby, prefer-standby";
            return std::nullopt;
        }
    }

    if (!timeout.empty()) {
        if (timeout.find_first_not_of("0123456789") != timeout.npos
            || timeout.size() > 6)
        {
            error = "connect_timeout is not a number of seconds";
            return std::nullopt;
        }

        /* libpq's rule: 1 means 2 */
        unsigned long s = std::stoul(timeout);
        ci.connect_timeout = s == 0 ? 0 : (s < 2 ? 2 : s);
    }

    return ci;
}


std::vector<Attempt>
attempts_for(const Target &target, const std::vector<std::string> &addresses)
{
    std::vector<Attempt> attempts;

    switch (target.kind) {

    case Target::Kind::libpq_default:
    case Target::Kind::socket:
        attempts.push_back({target.host, std::string(), target.port});
        break;

    case Target::Kind::address:
        attempts.push_back({target.host.empty() ? target.hostaddr
                                                : target.host,
                            target.hostaddr.empty() ? target.host
                                                    : target.hostaddr,
                            target.port});
        break;

    case Target::Kind::localhost:
        /* RFC 6761: loopback, not a question for DNS */
        attempts.push_back({target.host, "127.0.0.1", target.port});
        attempts.push_back({target.host, "::1", target.port});
        break;

    case Target::Kind::name:
        for (const std::string &addr : addresses) {
            attempts.push_back({target.host, addr, target.port});
        }

        break;
    }

    return attempts;
}

} // namespace webpush::db
