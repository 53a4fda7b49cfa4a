/*
 * A connection of the PostgreSQL pool; see ngx_webpush_pg_connection.hpp.
 */

#include "ngx_webpush_conf.hpp"

#include "db/ngx_webpush_pg_connection.hpp"

#include <algorithm>


namespace webpush::db {

namespace {

constexpr ngx_msec_t  min_backoff = 100;
constexpr ngx_msec_t  max_backoff = 5000;

} // namespace


std::string
trimmed(const char *msg)
{
    std::string s = msg ? msg : "";

    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }

    return s;
}


/* Connection: connecting ------------------------------------------------- */

void
Connection::connect() noexcept
{
    close();

    attempted_ = ngx_current_msec;
    pass_ = 0;
    target_ = 0;
    attempts_.clear();
    attempt_ = 0;
    last_error_.clear();

    guarded("database connect", [this]() { next_target(); });
}


/* the next host of the connection string (or the next walk over them) */
void
Connection::next_target()
{
    const Conninfo &ci = pool_->conninfo();
    std::vector<std::string> passes = ci.passes();

    if (target_ >= ci.targets.size()) {
        target_ = 0;
        pass_++;
    }

    if (pass_ >= passes.size()) {
        /* every attempt was logged as it failed */
        lost(last_error_.empty() ? std::string("no host to connect to")
                                 : last_error_);
        return;
    }

    const Target &target = ci.targets[target_++];

    if (target.kind == Target::Kind::name) {
        resolve(target);
        return;
    }

    attempts_ = attempts_for(target, {});
    attempt_ = 0;
    next_attempt();
}


void
Connection::next_attempt()
{
    while (attempt_ < attempts_.size()) {
        if (start_attempt(attempts_[attempt_++])) {
            return;
        }
    }

    next_target();
}


void
Connection::resolve(const Target &target)
{
    const ResolverConf &rc = pool_->resolver();

    ngx_resolver_ctx_t *ctx = rc.resolver
                              ? ngx_resolve_start(rc.resolver, nullptr)
                              : static_cast<ngx_resolver_ctx_t *>(
                                    NGX_NO_RESOLVER);

    if (ctx == nullptr || ctx == NGX_NO_RESOLVER) {
        last_error_ = "resolver error: "
                      + std::string(ctx ? "no resolver defined"
                                        : "cannot start")
                      + " to resolve \"" + target.host + "\"";
        ngx_log_error(NGX_LOG_WARN, pool_->log(), 0,
                      "webpush: database connection %ui: %s", id_,
                      last_error_.c_str());
        next_target();
        return;
    }

    ctx->name.data = reinterpret_cast<u_char *>(
                         const_cast<char *>(target.host.data()));
    ctx->name.len = target.host.size();
    ctx->handler = on_resolved;
    ctx->data = this;
    ctx->timeout = rc.timeout;

    rctx_ = ctx;
    state_ = State::resolving;

    /* may call on_resolved() before it returns */

    if (ngx_resolve_name(ctx) != NGX_OK) {
        rctx_ = nullptr;    /* freed by ngx_resolve_name() */
        last_error_ = "resolver error: cannot resolve \"" + target.host
                      + "\"";
        next_target();
    }
}


void
Connection::on_resolved(ngx_resolver_ctx_t *ctx) noexcept
{
    auto *conn = static_cast<Connection *>(ctx->data);

    conn->guarded("database host resolution",
                  [conn, ctx]() { conn->resolved(ctx); });
}


void
Connection::resolved(ngx_resolver_ctx_t *ctx)
{
    rctx_ = nullptr;

    std::string name(reinterpret_cast<char *>(ctx->name.data),
                     ctx->name.len);
    ngx_int_t state = ctx->state;
    std::vector<std::string> addrs;

    for (ngx_uint_t i = 0; state == NGX_OK && i < ctx->naddrs; i++) {
        u_char text[NGX_SOCKADDR_STRLEN];
        size_t len = ngx_sock_ntop(ctx->addrs[i].sockaddr,
                                   ctx->addrs[i].socklen, text,
                                   NGX_SOCKADDR_STRLEN, 0);

        addrs.emplace_back(reinterpret_cast<char *>(text), len);
    }

    ngx_resolve_name_done(ctx);

    if (state != NGX_OK || addrs.empty()) {
        last_error_ = std::string("resolver error: ")
                      + (state != NGX_OK ? ngx_resolver_strerror(state)
                                         : "no address")
                      + " (" + name + ")";
        ngx_log_error(NGX_LOG_WARN, pool_->log(), 0,
                      "webpush: database connection %ui: %s", id_,
                      last_error_.c_str());
        next_target();
        return;
    }

    const Target &target = pool_->conninfo().targets[target_ - 1];

    attempts_ = attempts_for(target, addrs);
    attempt_ = 0;
    next_attempt();
}


/* false: this attempt failed at once (logged), try the next */
bool
Connection::start_attempt(const Attempt &attempt)
{
    const Conninfo &ci = pool_->conninfo();

    describe_ = attempt.describe();

    Keywords params = ci.params(attempt, ci.passes()[pass_],
                                pool_->timeout());

    std::vector<const char *> keywords, values;

    for (const auto &[key, value] : params) {
        keywords.push_back(key.c_str());
        values.push_back(value.c_str());
    }

    keywords.push_back(nullptr);
    values.push_back(nullptr);

    pg_ = PQconnectStartParams(keywords.data(), values.data(), 0);

    if (pg_ == nullptr) {
        throw std::bad_alloc();
    }

    state_ = State::connecting;

    if (PQstatus(pg_) == CONNECTION_BAD || PQsetnonblocking(pg_, 1) != 0) {
        attempt_failed(pg_error());
        return false;
    }

    /* libpq would print the server's notices on stderr */
    PQsetNoticeProcessor(pg_, on_notice, pool_->log());

    /*
     * libpq enforces connect_timeout only when it blocks: each attempt
     * gets a timer, so that a host that never answers is passed over.
     */
    ngx_msec_t limit = ci.connect_timeout
                       ? static_cast<ngx_msec_t>(ci.connect_timeout) * 1000
                       : pool_->timeout();
    attempt_timer_.arm(limit);

    if (!wrap_socket()) {
        attempt_failed("cannot watch the database socket");
        return false;
    }

    poll_connect();

    return true;
}


/* this address is out: log it and go on with the next */
void
Connection::attempt_failed(const std::string &why)
{
    last_error_ = describe_ + ": " + why;

    ngx_log_error(NGX_LOG_WARN, pool_->log(), 0,
                  "webpush: database connection %ui: %s", id_,
                  last_error_.c_str());

    close_attempt();
    state_ = State::down;
}


void
Connection::on_attempt_timeout()
{
    if (state_ != State::connecting) {
        return;
    }

    attempt_failed("timed out connecting");
    next_attempt();
}


void
Connection::poll_connect()
{
    PostgresPollingStatusType status = PQconnectPoll(pg_);

    /* libpq may move to another socket (SSL or GSS fallback) */
    SocketId now = SocketId::of(pg_);

    if (now != socket_ || c_ == nullptr) {
        unwrap_socket();

        if (status != PGRES_POLLING_FAILED && !wrap_socket()) {
            attempt_failed("cannot watch the database socket");
            next_attempt();
            return;
        }
    }

    switch (status) {

    case PGRES_POLLING_READING:
        want_write(false);
        return;

    case PGRES_POLLING_WRITING:
        want_write(true);
        return;

    case PGRES_POLLING_OK:
        connected_now();
        return;

    default:
        attempt_failed(pg_error());
        next_attempt();
        return;
    }
}


void
Connection::connected_now()
{
    want_write(false);
    attempt_timer_.cancel();

    backoff_ = 0;
    prepared_.clear();

    ngx_log_error(NGX_LOG_INFO, pool_->log(), 0,
                  "webpush: database connection %ui ready (%s)", id_,
                  describe_.c_str());

    if (id_ == 0 && !pool_->channel().empty()) {
        std::string sql = "LISTEN \"" + pool_->channel() + "\"";

        state_ = State::listening;

        if (!PQsendQuery(pg_, sql.c_str())) {
            lost(pg_error());
            return;
        }

        flush();
        return;
    }

    ready();
}


/*
 * A query is waiting and this connection is down: try now rather than at
 * the end of the backoff, so that a database that came back is used at
 * once; at most every min_backoff, so a flood of requests is no flood of
 * connection attempts.
 */
void
Connection::kick() noexcept
{
    if (state_ != State::down || !retry_.armed()
        || ngx_current_msec - attempted_ < min_backoff)
    {
        return;
    }

    pool_->count_reconnect();
    connect();
}


void
Connection::on_retry()
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    pool_->count_reconnect();
    connect();
}


bool
Connection::wrap_socket()
{
    ngx_socket_t fd = PQsocket(pg_);

    if (fd == static_cast<ngx_socket_t>(-1)) {
        return false;
    }

    c_ = ngx_get_connection(fd, pool_->log());
    if (c_ == nullptr) {
        return false;
    }

    socket_ = SocketId::of(pg_);

    c_->data = this;
    c_->read->handler = on_read;
    c_->write->handler = on_write;
    c_->read->log = pool_->log();
    c_->write->log = pool_->log();

    /*
     * Level-triggered: libpq may leave bytes in the kernel buffer after
     * PQconsumeInput, and an edge-triggered event would not fire again.
     */
    if (ngx_add_event(c_->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        unwrap_socket();
        return false;
    }

    return true;
}


void
Connection::unwrap_socket() noexcept
{
    if (c_ == nullptr) {
        return;
    }

    /*
     * libpq owns the socket: nginx must neither close it nor poll it.
     * NGX_CLOSE_EVENT: the socket may be closed already (libpq moved on),
     * and the kernel dropped it from the event set with it.
     */
    if (c_->read->timer_set) {
        ngx_del_timer(c_->read);
    }

    if (c_->read->active) {
        ngx_del_event(c_->read, NGX_READ_EVENT, NGX_CLOSE_EVENT);
    }

    if (c_->write->active) {
        ngx_del_event(c_->write, NGX_WRITE_EVENT, NGX_CLOSE_EVENT);
    }

    if (c_->read->posted) {
        ngx_delete_posted_event(c_->read);
    }

    if (c_->write->posted) {
        ngx_delete_posted_event(c_->write);
    }

    /* free first: ngx_free_connection() may look at files[c->fd] */
    ngx_free_connection(c_);
    c_->fd = static_cast<ngx_socket_t>(-1);
    c_ = nullptr;
    socket_ = SocketId();
}


void
Connection::want_write(bool on)
{
    if (c_ == nullptr) {
        return;
    }

    if (on && !c_->write->active) {
        if (ngx_add_event(c_->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            lost("cannot watch the database socket for writing");
        }

    } else if (!on && c_->write->active) {
        if (ngx_del_event(c_->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            lost("cannot stop watching the database socket");
        }
    }
}


/* Connection: I/O -------------------------------------------------------- */

void
Connection::on_read(ngx_event_t *ev) noexcept
{
    auto *conn = static_cast<Connection *>(
                     static_cast<ngx_connection_t *>(ev->data)->data);

    conn->guarded("database read", [conn]() { conn->handle(false); });
}


void
Connection::on_write(ngx_event_t *ev) noexcept
{
    auto *conn = static_cast<Connection *>(
                     static_cast<ngx_connection_t *>(ev->data)->data);

    conn->guarded("database write", [conn]() { conn->handle(true); });
}


void
Connection::on_notice(void *arg, const char *message) noexcept
{
    auto *log = static_cast<ngx_log_t *>(arg);

    glue::barrier(log, "database notice", [log, message]() {
        ngx_log_error(NGX_LOG_NOTICE, log, 0, "webpush: database: %s",
                      trimmed(message).c_str());
    });
}


void
Connection::handle(bool writable)
{
    /*
     * worker_shutdown_timeout closes every connection of the worker, ours
     * too: the running query fails, its request was terminated already.
     */
    if (c_ != nullptr && c_->close) {
        lost("nginx closes the worker's connections");
        return;
    }

    switch (state_) {

    case State::down:
    case State::resolving:
        return;

    case State::connecting:
        poll_connect();
        return;

    default:
        if (writable) {
            flush();
        }

        if (c_ != nullptr && !writable) {
            consume();
        }
    }
}


/* connected (and listening): set up the schema or take queries */
void
Connection::ready()
{
    if (pool_->setup_needed()) {
        start_setup();
        return;
    }

    state_ = State::idle;
    pool_->connection_ready(this);
}


void
Connection::start_setup()
{
    pool_->setup_started();
    state_ = State::setup;

    if (!PQsendQuery(pg_, pool_->setup_sql().c_str())) {
        pool_->setup_done(false);
        lost(pg_error());
        return;
    }

    flush();
}


void
Connection::run(Job *job) noexcept
{
    job_ = job;
    job->conn = this;

    bool sent = false;

    try {
        sent = send_job();

    } catch (const std::bad_alloc &) {
        /* lost() below answers the job */
    }

    if (!sent) {
        lost(pg_error());
    }
}


bool
Connection::send_job()
{
    const Statement *stmt = job_->stmt;

    if (stmt == nullptr) {
        state_ = State::executing;
        std::vector<const char *> values = job_->params.pointers();

        if (!PQsendQueryParams(pg_, job_->sql.c_str(), job_->params.size(),
                               nullptr, values.data(), nullptr, nullptr, 0))
        {
            return false;
        }

    } else if (prepared_.count(stmt) == 0) {
        state_ = State::preparing;

        if (!PQsendPrepare(pg_, stmt->name, stmt->sql, 0, nullptr)) {
            return false;
        }

    } else {
        state_ = State::executing;
        std::vector<const char *> values = job_->params.pointers();

        if (!PQsendQueryPrepared(pg_, stmt->name, job_->params.size(),
                                 values.data(), nullptr, nullptr, 0))
        {
            return false;
        }
    }

    flush();

    return true;
}


void
Connection::flush()
{
    if (pg_ == nullptr) {
        return;
    }

    int rc = PQflush(pg_);

    if (rc < 0) {
        lost(pg_error());
        return;
    }

    want_write(rc == 1);
}


void
Connection::consume()
{
    if (!PQconsumeInput(pg_)) {
        lost(pg_error());
        return;
    }

    /* one wake-up for the plain ones, each payload on its own */
    bool                      notified = false;
    std::vector<std::string>  payloads;

    while (PGnotify *n = PQnotifies(pg_)) {
        if (n->extra != nullptr && n->extra[0] != '\0') {
            payloads.emplace_back(n->extra);

        } else {
            notified = true;
        }

        PQfreemem(n);
    }

    if (notified) {
        pool_->notified();
    }

    for (const std::string &p : payloads) {
        pool_->notified(p);
    }

    /* an idle connection has nothing to say but its own end */
    while (!PQisBusy(pg_)) {
        PGresult *res = PQgetResult(pg_);

        if (res == nullptr) {
            if (state_ != State::idle) {
                complete();
            }

            return;
        }

        ExecStatusType st = PQresultStatus(res);

        if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE
            || st == PGRES_NONFATAL_ERROR)
        {
            if (!error_result_) {
                error_result_.reset(res);

            } else {
                PQclear(res);
            }

        } else {
            result_.reset(res);
        }
    }
}


/* all results of the command arrived: act on them */
void
Connection::complete()
{
    Result result = std::move(result_);
    Result error = std::move(error_result_);

    switch (state_) {

    case State::listening:
        if (error) {
            ngx_log_error(NGX_LOG_WARN, pool_->log(), 0,
                          "webpush: LISTEN failed: %s",
                          trimmed(PQresultErrorMessage(error.get())).c_str());
        }

        ready();

        /* what was announced while nobody listened is looked at now */
        pool_->notified();
        return;

    case State::setup:
        if (error) {
            ngx_log_error(NGX_LOG_ERR, pool_->log(), 0,
                          "webpush: database schema setup failed: %s",
                          trimmed(PQresultErrorMessage(error.get())).c_str());
            pool_->setup_done(false);
            lost("schema setup failed");
            return;
        }

        state_ = State::idle;
        pool_->setup_done(true);
        pool_->connection_ready(this);
        return;

    case State::preparing:
        if (!error) {
            prepared_.insert(job_->stmt);

            if (!send_job()) {
                lost(pg_error());
            }

            return;
        }

        /* a statement that does not prepare is a bug: fail the query */
        [[fallthrough]];

    case State::executing: {
        Outcome outcome;

        if (error) {
            outcome.error = trimmed(PQresultErrorMessage(error.get()));
            const char *sqlstate = PQresultErrorField(error.get(),
                                                      PG_DIAG_SQLSTATE);
            outcome.sqlstate = sqlstate ? sqlstate : "";
            const char *constraint = PQresultErrorField(error.get(),
                                                PG_DIAG_CONSTRAINT_NAME);
            outcome.constraint = constraint ? constraint : "";

        } else {
            outcome.result = std::move(result);
        }

        Job *job = job_;
        job_ = nullptr;
        job->conn = nullptr;
        state_ = State::idle;
        pool_->job_finished(job, std::move(outcome));
        pool_->connection_ready(this);
        return;
    }

    default:
        return;
    }
}


/* the deadline of the running job passed: the connection cannot be saved */
void
Connection::abort_job(const char *why) noexcept
{
    Job *job = job_;
    job_ = nullptr;

    if (job != nullptr) {
        job->conn = nullptr;
        Outcome outcome;
        outcome.error = why;
        outcome.unavailable = true;
        pool_->job_finished(job, std::move(outcome));
    }

    lost(why);
}


void
Connection::lost(const std::string &why) noexcept
{
    bool was_up = connected();

    if (state_ != State::down || pg_ != nullptr) {
        ngx_uint_t level = was_up ? NGX_LOG_ERR : NGX_LOG_WARN;

        ngx_log_error(level, pool_->log(), 0,
                      "webpush: database connection %ui: %s", id_,
                      why.c_str());
    }

    Job *job = job_;
    job_ = nullptr;

    close();
    state_ = State::down;

    if (job != nullptr) {
        /* it may have run: answering "unavailable" beats running it twice */
        job->conn = nullptr;
        Outcome outcome;
        outcome.error = "connection to the database lost";
        outcome.unavailable = true;
        pool_->job_finished(job, std::move(outcome));
    }

    schedule_retry();
}


void
Connection::schedule_retry() noexcept
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    backoff_ = backoff_ ? std::min(backoff_ * 2, max_backoff) : min_backoff;
    retry_.arm(backoff_);
}


/* the current attempt's libpq connection and its socket */
void
Connection::close_attempt() noexcept
{
    attempt_timer_.cancel();
    unwrap_socket();

    if (pg_ != nullptr) {
        PQfinish(pg_);
        pg_ = nullptr;
    }

    result_.reset();
    error_result_.reset();
    prepared_.clear();
}


void
Connection::close() noexcept
{
    retry_.cancel();

    if (rctx_ != nullptr) {
        ngx_resolve_name_done(rctx_);
        rctx_ = nullptr;
    }

    close_attempt();
}


std::string
Connection::pg_error() const
{
    return pg_ ? trimmed(PQerrorMessage(pg_)) : "no connection";
}

} // namespace webpush::db
