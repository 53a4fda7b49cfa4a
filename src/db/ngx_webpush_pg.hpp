/*
 * A per-worker pool of PostgreSQL connections driven by nginx's event loop.
 *
 * libpq runs in non-blocking mode; each connection's socket is wrapped in
 * an ngx_connection_t whose read and write events call back into libpq
 * (PQconnectPoll, PQflush, PQconsumeInput).  Nothing here ever waits on
 * the network.  Queries are named prepared statements, prepared on each
 * connection the first time it runs them.
 *
 * Connecting never blocks either: each host of the connection string is
 * tried in order, a host name resolved by nginx's resolver (again at every
 * reconnect) and each of its addresses given to libpq as hostaddr, each
 * attempt bounded by connect_timeout (else webpush_postgres_timeout);
 * target_session_attrs is checked by libpq on each (db/conninfo.hpp).
 * libpq may open a new socket inside PQconnectPoll (SSL or GSS fallback)
 * that gets the old one's descriptor number, so the event registration
 * follows the socket's identity (its inode), not its number.
 *
 * Every query gets a deadline (webpush_postgres_timeout) covering the wait
 * for a free connection and the execution; when it passes, the callback
 * gets an error and, if the query was running, its connection is dropped
 * and reopened (PQcancel would block).  A connection that breaks is
 * reopened with a growing delay; queries queue meanwhile, so a database
 * that comes back is used again without an nginx restart.
 *
 * Callbacks are delivered from a posted event, never from inside exec()
 * or a connection's own handler, so a callback may queue the next query.
 */

#pragma once

#include "ngx.hpp"

#include "db/conninfo.hpp"
#include "db/sql.hpp"
#include "glue/ngx_webpush_glue.hpp"
#include "glue/ngx_webpush_list.hpp"

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>


namespace webpush::db {

struct ResultDeleter {
    void operator()(PGresult *res) const noexcept { PQclear(res); }
};

using Result = std::unique_ptr<PGresult, ResultDeleter>;


/* text-format parameters; std::nullopt-like NULLs through add_null() */
class Params {
public:
    Params &add(std::string_view value);
    Params &add(long long value);
    Params &add_null();

    int size() const { return static_cast<int>(values_.size()); }
    std::vector<const char *> pointers() const;

private:
    std::vector<std::string>  values_;
    std::vector<bool>         null_;
};


/*
 * Called exactly once, from a posted event (never from inside exec()),
 * unless the pool is destroyed first (process exit): then never.  On success error
 * is empty and result holds the PGRES_TUPLES_OK / PGRES_COMMAND_OK result;
 * otherwise error says why (the server's message for an SQL error) and
 * sqlstate is the server's SQLSTATE when there was one.
 */
struct Outcome {
    Result        result;
    std::string   error;
    std::string   sqlstate;
    std::string   constraint;            /* of an integrity violation */
    bool          unavailable = false;   /* no answer: down or timed out */

    bool ok() const { return error.empty(); }
};

using Callback = std::function<void(Outcome &&)>;


struct PoolStats {
    ngx_uint_t  connections;       /* configured */
    ngx_uint_t  connected;         /* ready for queries */
    ngx_uint_t  busy;
    ngx_uint_t  queued;
    uint64_t    queries;           /* completed, successfully or not */
    uint64_t    errors;            /* SQL errors */
    uint64_t    timeouts;
    uint64_t    reconnects;
    bool        schema_ready;
};


class Connection;
struct Job;


/* the resolver for host names in the connection string */
struct ResolverConf {
    ngx_resolver_t  *resolver = nullptr;     /* http{}'s, or none */
    ngx_msec_t       timeout = 30000;
};


class Pool {
public:
    /*
     * conninfo: the parsed webpush_postgres value; setup_sql: run once
     * per worker on the first connection (schema creation and upgrade)
     * before any query is dispatched.
     */
    Pool(ngx_log_t *log, Conninfo conninfo, ngx_uint_t size,
         ngx_msec_t timeout, std::string setup_sql, ResolverConf resolver);
    ~Pool();

    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;

    void start();

    /*
     * LISTEN channel on connection 0 (again after every reconnect); each
     * NOTIFY calls on_notify with its payload (from the event loop,
     * outside any callback); after a reconnect it is called with an empty
     * payload for what was announced while nobody listened.
     */
    void listen(std::string channel,
                std::function<void(std::string_view payload)> on_notify);
    const std::string &channel() const { return channel_; }
    void notified(std::string_view payload = {});

    /*
     * Queues a query.  Throws (std::bad_alloc) only before anything was
     * queued; then done is never called.
     */
    void exec(const Statement &stmt, Params params, Callback done);

    /* SQL built at run time (from whitelisted parts only), not prepared */
    void exec_sql(std::string sql, Params params, Callback done);

    PoolStats stats() const;

    /* used by Connection and Job */
    void connection_ready(Connection *conn) noexcept;
    void job_finished(Job *job, Outcome &&outcome) noexcept;
    void job_expired(Job *job) noexcept;
    void setup_done(bool ok) noexcept;
    void count_reconnect() noexcept { reconnects_++; }
    void count_timeout() noexcept { timeouts_++; }
    bool setup_needed() const { return !schema_ready_ && !setup_running_; }
    void setup_started() noexcept { setup_running_ = true; }

    ngx_log_t          *log() const { return log_; }
    ngx_msec_t          timeout() const { return timeout_; }
    const std::string  &setup_sql() const { return setup_sql_; }
    const Conninfo     &conninfo() const { return conninfo_; }
    const ResolverConf &resolver() const { return resolver_; }

private:
    void enqueue(std::unique_ptr<Job> job);
    void dispatch() noexcept;
    void deliver() noexcept;

    ngx_log_t                                 *log_;
    Conninfo                                   conninfo_;
    ngx_msec_t                                 timeout_;
    std::string                                setup_sql_;
    ResolverConf                               resolver_;

    std::vector<std::unique_ptr<Connection>>   connections_;
    glue::List<Job>                            waiting_;   /* Job::link */
    glue::List<Job>                            finished_;  /* Job::link */
    glue::Event                                deliver_;
    std::string                                channel_;
    std::function<void(std::string_view)>      on_notify_;
    bool                                       schema_ready_ = false;
    bool                                       setup_running_ = false;

    uint64_t                                   queries_ = 0;
    uint64_t                                   errors_ = 0;
    uint64_t                                   timeouts_ = 0;
    uint64_t                                   reconnects_ = 0;
};

} // namespace webpush::db
