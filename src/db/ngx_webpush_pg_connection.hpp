/*
 * Inside the PostgreSQL pool (ngx_webpush_pg.hpp): a query's Job and the
 * Connection that runs it.  Only the pool's own files include this.
 *
 * A Connection walks the connection string's hosts (db/conninfo.hpp): a
 * name is resolved by nginx's resolver, each address is one libpq attempt
 * bounded by its own timer; once connected it LISTENs (connection 0),
 * sets up the schema (the first of the worker) and runs one Job at a
 * time.  Whatever breaks, the running Job is answered "unavailable" and
 * the connection is reopened after a growing delay.
 */

#pragma once

#include "db/ngx_webpush_pg.hpp"

#include <sys/stat.h>

#include <string>
#include <unordered_set>
#include <vector>


namespace webpush::db {

/* libpq's messages end in a newline */
std::string trimmed(const char *msg);

struct Job {
    Pool              *pool;
    const Statement   *stmt;               /* or nullptr: run sql */
    std::string        sql;
    Params             params;
    Callback           done;
    Outcome            outcome;            /* once finished */
    Connection        *conn = nullptr;     /* running on it */
    glue::Link<Job>    link;               /* waiting or finished */
    /*
     * Not cancelable: a graceful shutdown lets running queries finish
     * (bounded by the deadline) so that their requests get answers.
     */
    glue::Event        deadline;

    Job(Pool *p, const Statement *s, Params &&ps, Callback &&cb)
        : pool(p), stmt(s), params(std::move(ps)), done(std::move(cb)),
          deadline(p->log(), "database query deadline",
                   [this]() { pool->job_expired(this); }, false)
    {}
};


/* a socket's identity: libpq may reuse a closed socket's number */
struct SocketId {
    ngx_socket_t  fd = static_cast<ngx_socket_t>(-1);
    dev_t         dev = 0;
    ino_t         ino = 0;

    static SocketId of(PGconn *pg) noexcept
    {
        SocketId id;
        struct stat st;

        id.fd = pg ? PQsocket(pg) : static_cast<ngx_socket_t>(-1);

        if (id.fd != static_cast<ngx_socket_t>(-1)
            && fstat(id.fd, &st) == 0)
        {
            id.dev = st.st_dev;
            id.ino = st.st_ino;
        }

        return id;
    }

    bool operator!=(const SocketId &o) const noexcept
    {
        return fd != o.fd || dev != o.dev || ino != o.ino;
    }
};


class Connection {
public:
    Connection(Pool *pool, ngx_uint_t id)
        : pool_(pool), id_(id),
          retry_(pool->log(), "database reconnect",
                 [this]() { guarded("database reconnect",
                                    [this]() { on_retry(); }); }),
          attempt_timer_(pool->log(), "database connect timeout",
                         [this]() { guarded("database connect timeout",
                                            [this]() {
                                                on_attempt_timeout();
                                            }); })
    {}

    ~Connection()
    {
        delete job_;      /* process exit: nobody waits for it any more */
        close();
    }

    void connect() noexcept;
    void kick() noexcept;
    bool idle() const { return state_ == State::idle; }
    bool connected() const
    {
        return state_ != State::down && state_ != State::resolving
               && state_ != State::connecting;
    }
    bool busy() const
    {
        return state_ == State::preparing || state_ == State::executing;
    }

    void run(Job *job) noexcept;
    void abort_job(const char *why) noexcept;

private:
    enum class State {
        down, resolving, connecting, listening, setup, idle, preparing,
        executing
    };

    static void on_read(ngx_event_t *ev) noexcept;
    static void on_write(ngx_event_t *ev) noexcept;
    static void on_resolved(ngx_resolver_ctx_t *ctx) noexcept;
    static void on_notice(void *arg, const char *message) noexcept;

    /* runs f; an exception drops the connection (retried later) */
    template <typename F>
    void guarded(const char *where, F &&f) noexcept
    {
        try {
            f();

        } catch (...) {
            glue::log_exception(pool_->log(), where);
            lost("internal error");
        }
    }

    void on_retry();
    void on_attempt_timeout();
    void handle(bool writable);
    void next_target();
    void next_attempt();
    void resolve(const Target &target);
    void resolved(ngx_resolver_ctx_t *ctx);
    bool start_attempt(const Attempt &attempt);
    void attempt_failed(const std::string &why);
    void poll_connect();
    void connected_now();
    bool wrap_socket();
    void unwrap_socket() noexcept;
    void want_write(bool on);
    void flush();
    void consume();
    void complete();
    void start_setup();
    void ready();
    bool send_job();
    void lost(const std::string &why) noexcept;
    void close_attempt() noexcept;
    void close() noexcept;
    void schedule_retry() noexcept;
    std::string pg_error() const;

    Pool                                 *pool_;
    ngx_uint_t                            id_;
    PGconn                               *pg_ = nullptr;
    SocketId                              socket_;
    ngx_connection_t                     *c_ = nullptr;
    State                                 state_ = State::down;
    Job                                  *job_ = nullptr;
    Result                                result_;
    Result                                error_result_;
    std::unordered_set<const Statement *> prepared_;
    ngx_msec_t                            backoff_ = 0;
    ngx_msec_t                            attempted_ = 0;
    glue::Event                           retry_;

    /* the walk over the connection string's hosts */
    size_t                                pass_ = 0;
    size_t                                target_ = 0;
    std::vector<Attempt>                  attempts_;
    size_t                                attempt_ = 0;
    std::string                           describe_;   /* current attempt */
    std::string                           last_error_;
    ngx_resolver_ctx_t                   *rctx_ = nullptr;
    glue::Event                           attempt_timer_;
};

} // namespace webpush::db
