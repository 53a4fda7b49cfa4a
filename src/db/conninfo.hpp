/*
 * The webpush_postgres connection string, taken apart so that the pool can
 * connect from nginx's event loop without blocking.
 *
 * libpq would resolve a host name itself (getaddrinfo, blocking), and it
 * enforces connect_timeout and moves on to the next host of a list only in
 * its blocking API.  So the pool makes one attempt per address: the hosts
 * of the list in order, a name resolved by nginx's resolver into its
 * addresses, each passed to libpq as hostaddr with host kept (TLS
 * verification and .pgpass use it), each attempt bounded by a timer.
 *
 * target_session_attrs is checked by libpq on each attempt; for
 * prefer-standby the list is walked twice, first asking for a standby,
 * then for any server, which is what libpq does over its own list.
 *
 * Pure: no nginx, only libpq's conninfo parser.
 */

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>


namespace webpush::db {

struct Target {
    enum class Kind {
        libpq_default,     /* no host: libpq's default socket */
        socket,            /* a socket directory ("/..." or "@...") */
        address,           /* an IP address, or a hostaddr given */
        localhost,         /* "localhost": loopback, no DNS */
        name               /* resolved by nginx's resolver */
    };

    Kind         kind = Kind::libpq_default;
    std::string  host;        /* as written */
    std::string  hostaddr;    /* as written, with Kind::address */
    std::string  port;        /* "" = libpq's default */
};


/* one connection attempt: what libpq gets for host, hostaddr and port */
struct Attempt {
    std::string  host;
    std::string  hostaddr;    /* "" = none */
    std::string  port;

    /* for log lines: "db.internal (10.0.0.5) port 5432" */
    std::string describe() const;
};


using Keywords = std::vector<std::pair<std::string, std::string>>;


struct Conninfo {
    Keywords             options;     /* every other keyword, as written */
    std::vector<Target>  targets;     /* at least one */
    std::string          target_session_attrs;   /* "" = any */
    unsigned             connect_timeout = 0;    /* seconds, 0 = unset */

    bool needs_resolver() const;

    /* the first name to resolve, for messages; "" when none */
    std::string first_name() const;

    /* target_session_attrs of each walk over the list */
    std::vector<std::string> passes() const;

    /*
     * What libpq gets for one attempt: the options, application_name
     * unless set, server options (statement_timeout in ms, UTC,
     * client_min_messages) appended to "options", then the attempt.
     */
    Keywords params(const Attempt &attempt, std::string_view session_attrs,
                    unsigned long statement_timeout_ms) const;
};


/*
 * nullopt with error set when libpq would refuse it, or it is unusable;
 * the error never quotes the string (it may hold a password).
 */
std::optional<Conninfo> parse_conninfo(const std::string &conninfo,
                                       std::string &error);

/*
 * The attempts for a target: addresses are what the resolver found for a
 * Kind::name (in its order); other kinds ignore them.
 */
std::vector<Attempt> attempts_for(const Target &target,
                                  const std::vector<std::string> &addresses);

} // namespace webpush::db
