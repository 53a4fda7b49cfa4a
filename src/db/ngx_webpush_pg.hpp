/*
 * A per-worker pool of PostgreSQL connections driven by nginx's event loop.
 *
 * libpq runs in non-blocking mode; each connection's socket is wrapped in
 * an ngx_connection_t whose read and write events call back into libpq
 * (PQconnectPoll, PQflush, PQconsumeInput).  Nothing here ever waits on
 * the network.  Queries are named prepared statements, prepared on each
 * connection the first time it runs them.
 *
 * Every query gets a deadline (webpush_postgres_timeout) covering the wait
 * for a free connection and the execution; when it passes, the callback
 * gets an error and, if the query was running, its connection is dropped
 * and reopened (PQcancel would block).  A connection that breaks is
 * reopened with a growing delay; queries queue meanwhile, so a database
 * that comes back is used again without an nginx restart.
 */

#pragma once

#include "ngx.hpp"

#include "db/sql.hpp"

#include <libpq-fe.h>

#include <cstdint>
#include <deque>
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
 * Called exactly once, never from inside Pool::exec().  On success error
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


class Pool {
public:
    /*
     * conninfo: the webpush_postgres value; setup_sql: run once per worker
     * on the first connection (schema creation and upgrade) before any
     * query is dispatched.
     */
    Pool(ngx_log_t *log, std::string conninfo, ngx_uint_t size,
         ngx_msec_t timeout, std::string setup_sql);
    ~Pool();

    Pool(const Pool &) = delete;
    Pool &operator=(const Pool &) = delete;

    void start();

    /*
     * LISTEN channel on connection 0 (again after every reconnect); each
     * NOTIFY calls on_notify (from the event loop, outside any callback).
     */
    void listen(std::string channel, std::function<void()> on_notify);
    const std::string &channel() const { return channel_; }
    void notified();

    void exec(const Statement &stmt, Params params, Callback done);

    /* SQL built at run time (from whitelisted parts only), not prepared */
    void exec_sql(std::string sql, Params params, Callback done);

    PoolStats stats() const;

    /* used by Connection */
    void connection_ready(Connection *conn);
    void connection_lost(Connection *conn);
    void job_finished(Job *job, Outcome &&outcome);
    void setup_done(bool ok);
    void count_reconnect() { reconnects_++; }
    void count_timeout() { timeouts_++; }
    bool setup_needed() const { return !schema_ready_ && !setup_running_; }
    void setup_started() { setup_running_ = true; }

    ngx_log_t          *log() const { return log_; }
    ngx_msec_t          timeout() const { return timeout_; }
    const std::string  &setup_sql() const { return setup_sql_; }
    const std::vector<const char *> &keywords() const { return keywords_; }
    const std::vector<const char *> &values() const { return values_; }

private:
    void dispatch();
    void enqueue(Job *job);

    ngx_log_t                                 *log_;
    std::string                                conninfo_;
    ngx_msec_t                                 timeout_;
    std::string                                setup_sql_;

    /* connection parameters: the user's conninfo plus our options */
    std::vector<std::string>                   storage_;
    std::vector<const char *>                  keywords_;
    std::vector<const char *>                  values_;

    std::vector<std::unique_ptr<Connection>>   connections_;
    std::deque<Job *>                          queue_;
    std::string                                channel_;
    std::function<void()>                      on_notify_;
    bool                                       schema_ready_ = false;
    bool                                       setup_running_ = false;

    uint64_t                                   queries_ = 0;
    uint64_t                                   errors_ = 0;
    uint64_t                                   timeouts_ = 0;
    uint64_t                                   reconnects_ = 0;

    friend struct Job;
};

} // namespace webpush::db
