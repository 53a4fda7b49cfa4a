/*
 * PostgreSQL connection pool on nginx's event loop; see the header.
 */

#include "ngx_webpush_conf.hpp"

#include "db/ngx_webpush_pg.hpp"

#include <algorithm>
#include <unordered_set>


namespace webpush::db {

namespace {

constexpr ngx_msec_t  min_backoff = 100;
constexpr ngx_msec_t  max_backoff = 5000;


/*
 * Timer events need a non-NULL ev->data that looks like a connection
 * (nginx's debug log prints its fd); a Fake carries the owner instead.
 */
struct Fake {
    ngx_connection_t  conn;

    void init(void *owner, ngx_event_t *ev, ngx_event_handler_pt handler,
              ngx_log_t *log, bool cancelable)
    {
        ngx_memzero(&conn, sizeof(ngx_connection_t));
        conn.fd = static_cast<ngx_socket_t>(-1);
        conn.data = owner;
        ngx_memzero(ev, sizeof(ngx_event_t));
        ev->data = &conn;
        ev->handler = handler;
        ev->log = log;
        ev->cancelable = cancelable ? 1 : 0;
    }
};


template <typename T>
T *
owner(ngx_event_t *ev)
{
    return static_cast<T *>(static_cast<ngx_connection_t *>(ev->data)->data);
}


std::string
trimmed(const char *msg)
{
    std::string s = msg ? msg : "";

    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
        s.pop_back();
    }

    return s;
}

} // namespace


Params &
Params::add(std::string_view value)
{
    values_.emplace_back(value);
    null_.push_back(false);
    return *this;
}


Params &
Params::add(long long value)
{
    values_.push_back(std::to_string(value));
    null_.push_back(false);
    return *this;
}


Params &
Params::add_null()
{
    values_.emplace_back();
    null_.push_back(true);
    return *this;
}


std::vector<const char *>
Params::pointers() const
{
    std::vector<const char *> p(values_.size());

    for (size_t i = 0; i < values_.size(); i++) {
        p[i] = null_[i] ? nullptr : values_[i].c_str();
    }

    return p;
}


struct Job {
    Pool              *pool;
    const Statement   *stmt;               /* or nullptr: run sql */
    std::string        sql;
    Params             params;
    Callback           done;
    Connection        *conn = nullptr;     /* running on it */
    ngx_event_t        deadline;
    Fake               fake;

    Job(Pool *p, const Statement *s, Params &&ps, Callback &&cb)
        : pool(p), stmt(s), params(std::move(ps)), done(std::move(cb))
    {
        /*
         * Not cancelable: a graceful shutdown lets running queries finish
         * (bounded by the deadline) so that their requests get answers.
         */
        fake.init(this, &deadline, on_deadline, p->log(), false);
    }

    ~Job()
    {
        if (deadline.timer_set) {
            ngx_del_timer(&deadline);
        }
    }

    static void on_deadline(ngx_event_t *ev) noexcept;
};


class Connection {
public:
    Connection(Pool *pool, ngx_uint_t id) : pool_(pool), id_(id)
    {
        retry_fake_.init(this, &retry_, on_retry, pool->log(), true);
    }

    ~Connection()
    {
        delete job_;      /* process exit: nobody waits for it any more */
        close();
    }

    void connect();
    void kick();
    bool idle() const { return state_ == State::idle; }
    bool connected() const
    {
        return state_ != State::down && state_ != State::connecting;
    }
    bool busy() const
    {
        return state_ == State::preparing || state_ == State::executing;
    }

    void run(Job *job);
    void abort_job(const char *why);

private:
    enum class State {
        down, connecting, listening, setup, idle, preparing, executing
    };

    static void on_read(ngx_event_t *ev) noexcept;
    static void on_write(ngx_event_t *ev) noexcept;
    static void on_retry(ngx_event_t *ev) noexcept;
    static void on_notice(void *arg, const char *message) noexcept;

    void handle(bool writable) noexcept;
    void poll_connect();
    bool wrap_socket();
    void unwrap_socket();
    void want_write(bool on);
    void flush();
    void consume();
    void complete();
    void start_setup();
    void ready();
    bool send_job();
    void lost(const std::string &why);
    void close();
    void schedule_retry();
    std::string pg_error() const;

    Pool                                 *pool_;
    ngx_uint_t                            id_;
    PGconn                               *pg_ = nullptr;
    ngx_connection_t                     *c_ = nullptr;
    State                                 state_ = State::down;
    Job                                  *job_ = nullptr;
    Result                                result_;
    Result                                error_result_;
    std::unordered_set<const Statement *> prepared_;
    ngx_msec_t                            backoff_ = 0;
    ngx_msec_t                            attempted_ = 0;
    ngx_event_t                           retry_;
    Fake                                  retry_fake_;
};


/* Connection ------------------------------------------------------------ */

void
Connection::connect()
{
    close();

    attempted_ = ngx_current_msec;

    pg_ = PQconnectStartParams(pool_->keywords().data(),
                               pool_->values().data(), 0);

    if (pg_ == nullptr) {
        lost("out of memory");
        return;
    }

    if (PQstatus(pg_) == CONNECTION_BAD) {
        lost(pg_error());
        return;
    }

    if (PQsetnonblocking(pg_, 1) != 0) {
        lost(pg_error());
        return;
    }

    /* libpq would print the server's notices on stderr */
    PQsetNoticeProcessor(pg_, on_notice, pool_->log());

    state_ = State::connecting;

    /* the connect phase is bounded too: the retry timer doubles as that */
    ngx_add_timer(&retry_, pool_->timeout());

    if (!wrap_socket()) {
        return;
    }

    poll_connect();
}


/*
 * A query is waiting and this connection is down: try now rather than at
 * the end of the backoff, so that a database that came back is used at
 * once; at most every min_backoff, so a flood of requests is no flood of
 * connection attempts.
 */
void
Connection::kick()
{
    if (state_ != State::down || !retry_.timer_set
        || ngx_current_msec - attempted_ < min_backoff)
    {
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
        lost("no socket");
        return false;
    }

    c_ = ngx_get_connection(fd, pool_->log());
    if (c_ == nullptr) {
        lost("no free nginx connection for the database socket");
        return false;
    }

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
        lost("cannot add the database socket to the event loop");
        return false;
    }

    return true;
}


void
Connection::unwrap_socket()
{
    if (c_ == nullptr) {
        return;
    }

    /* libpq owns the socket: nginx must neither close it nor poll it */
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


void
Connection::on_read(ngx_event_t *ev) noexcept
{
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    static_cast<Connection *>(c->data)->handle(false);
}


void
Connection::on_write(ngx_event_t *ev) noexcept
{
    auto *c = static_cast<ngx_connection_t *>(ev->data);
    static_cast<Connection *>(c->data)->handle(true);
}


void
Connection::on_retry(ngx_event_t *ev) noexcept
{
    auto *conn = owner<Connection>(ev);

    if (conn->state_ == State::connecting) {
        conn->lost("connection timed out");
        return;
    }

    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    conn->pool_->count_reconnect();
    conn->connect();
}


void
Connection::on_notice(void *arg, const char *message) noexcept
{
    auto *log = static_cast<ngx_log_t *>(arg);

    ngx_log_error(NGX_LOG_NOTICE, log, 0, "webpush: database: %s",
                  trimmed(message).c_str());
}


void
Connection::handle(bool writable) noexcept
{
    try {
        switch (state_) {

        case State::down:
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

    } catch (const std::exception &e) {
        lost(e.what());
    }
}


void
Connection::poll_connect()
{
    ngx_socket_t before = PQsocket(pg_);

    PostgresPollingStatusType status = PQconnectPoll(pg_);

    /* libpq may move to another socket (next host, SSL fallback) */
    if (PQsocket(pg_) != before || c_ == nullptr) {
        unwrap_socket();

        if (status != PGRES_POLLING_FAILED && !wrap_socket()) {
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
        break;

    default:
        lost(pg_error());
        return;
    }

    want_write(false);

    if (retry_.timer_set) {
        ngx_del_timer(&retry_);
    }

    backoff_ = 0;
    prepared_.clear();

    ngx_log_error(NGX_LOG_INFO, pool_->log(), 0,
                  "webpush: database connection %ui ready", id_);

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
        lost(pg_error());
        return;
    }

    flush();
}


void
Connection::run(Job *job)
{
    job_ = job;
    job->conn = this;

    if (!send_job()) {
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

    bool notified = false;

    while (PGnotify *n = PQnotifies(pg_)) {
        PQfreemem(n);
        notified = true;
    }

    if (notified) {
        pool_->notified();
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
Connection::abort_job(const char *why)
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
Connection::lost(const std::string &why)
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

    pool_->connection_lost(this);
    schedule_retry();
}


void
Connection::schedule_retry()
{
    if (ngx_exiting || ngx_terminate || ngx_quit) {
        return;
    }

    backoff_ = backoff_ ? std::min(backoff_ * 2, max_backoff) : min_backoff;

    if (retry_.timer_set) {
        ngx_del_timer(&retry_);
    }

    ngx_add_timer(&retry_, backoff_);
}


void
Connection::close()
{
    if (retry_.timer_set) {
        ngx_del_timer(&retry_);
    }

    unwrap_socket();

    if (pg_ != nullptr) {
        PQfinish(pg_);
        pg_ = nullptr;
    }

    result_.reset();
    error_result_.reset();
    prepared_.clear();
}


std::string
Connection::pg_error() const
{
    return pg_ ? trimmed(PQerrorMessage(pg_)) : "no connection";
}


/* Job -------------------------------------------------------------------- */

void
Job::on_deadline(ngx_event_t *ev) noexcept
{
    auto *job = owner<Job>(ev);
    job->pool->count_timeout();

    if (job->conn != nullptr) {
        job->conn->abort_job("query timed out");
        return;
    }

    Outcome outcome;
    outcome.error = "no database connection available in time";
    outcome.unavailable = true;

    Pool *pool = job->pool;
    auto &q = pool->queue_;
    q.erase(std::remove(q.begin(), q.end(), job), q.end());
    pool->job_finished(job, std::move(outcome));
}


/* Pool ------------------------------------------------------------------- */

Pool::Pool(ngx_log_t *log, std::string conninfo, ngx_uint_t size,
    ngx_msec_t timeout, std::string setup_sql)
    : log_(log), conninfo_(std::move(conninfo)), timeout_(timeout),
      setup_sql_(std::move(setup_sql))
{
    char *err = nullptr;
    PQconninfoOption *opts = PQconninfoParse(conninfo_.c_str(), &err);

    if (opts == nullptr) {
        /* checked at configuration time; only memory can fail here */
        PQfreemem(err);
        throw std::bad_alloc();
    }

    std::string options;
    bool has_app_name = false;

    for (PQconninfoOption *o = opts; o->keyword != nullptr; o++) {
        if (o->val == nullptr) {
            continue;
        }

        if (std::string_view(o->keyword) == "options") {
            options = o->val;
            continue;
        }

        if (std::string_view(o->keyword) == "application_name") {
            has_app_name = true;
        }

        storage_.emplace_back(o->keyword);
        storage_.emplace_back(o->val);
    }

    PQconninfoFree(opts);

    if (!has_app_name) {
        storage_.emplace_back("application_name");
        storage_.emplace_back("nginx-webpush");
    }

    /*
     * The server gives up on a statement when we would; timestamps are
     * written and formatted in UTC whatever the server's default.
     */
    options += " -c statement_timeout=" + std::to_string(timeout_)
               + " -c TimeZone=UTC -c client_min_messages=warning";
    storage_.emplace_back("options");
    storage_.emplace_back(options);

    for (size_t i = 0; i < storage_.size(); i += 2) {
        keywords_.push_back(storage_[i].c_str());
        values_.push_back(storage_[i + 1].c_str());
    }

    keywords_.push_back(nullptr);
    values_.push_back(nullptr);

    for (ngx_uint_t i = 0; i < size; i++) {
        connections_.push_back(std::make_unique<Connection>(this, i));
    }
}


Pool::~Pool()
{
    /*
     * Only at process exit: the requests behind queued jobs are not
     * finalized any more, so the callbacks are dropped, not called.
     */
    connections_.clear();

    for (Job *job : queue_) {
        delete job;
    }
}


void
Pool::start()
{
    for (auto &conn : connections_) {
        conn->connect();
    }
}


void
Pool::listen(std::string channel, std::function<void()> on_notify)
{
    channel_ = std::move(channel);
    on_notify_ = std::move(on_notify);
}


void
Pool::notified()
{
    if (on_notify_) {
        on_notify_();
    }
}


void
Pool::exec(const Statement &stmt, Params params, Callback done)
{
    enqueue(new Job(this, &stmt, std::move(params), std::move(done)));
}


void
Pool::exec_sql(std::string sql, Params params, Callback done)
{
    auto *job = new Job(this, nullptr, std::move(params), std::move(done));
    job->sql = std::move(sql);
    enqueue(job);
}


void
Pool::enqueue(Job *job)
{
    ngx_add_timer(&job->deadline, timeout_);
    queue_.push_back(job);

    dispatch();
}


void
Pool::dispatch()
{
    if (!queue_.empty()) {
        bool any = false;

        for (auto &conn : connections_) {
            any = any || conn->connected();
        }

        if (!any) {
            for (auto &conn : connections_) {
                conn->kick();
            }
        }
    }

    if (!schema_ready_) {
        return;
    }

    for (auto &conn : connections_) {
        if (queue_.empty()) {
            return;
        }

        if (conn->idle()) {
            Job *job = queue_.front();
            queue_.pop_front();
            conn->run(job);
        }
    }
}


void
Pool::connection_ready(Connection *)
{
    dispatch();
}


void
Pool::connection_lost(Connection *)
{
    /* queued jobs wait for another connection or their deadline */
}


void
Pool::setup_done(bool ok)
{
    setup_running_ = false;
    schema_ready_ = ok;
}


void
Pool::job_finished(Job *job, Outcome &&outcome)
{
    queries_++;

    if (!outcome.ok() && !outcome.unavailable) {
        errors_++;
    }

    Callback done = std::move(job->done);
    delete job;

    try {
        done(std::move(outcome));

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, log_, 0,
                      "webpush: query callback failed: %s", e.what());
    }
}


PoolStats
Pool::stats() const
{
    PoolStats s{};

    s.connections = connections_.size();
    s.queued = queue_.size();
    s.queries = queries_;
    s.errors = errors_;
    s.timeouts = timeouts_;
    s.reconnects = reconnects_;
    s.schema_ready = schema_ready_;

    for (auto &conn : connections_) {
        if (conn->connected()) {
            s.connected++;
        }

        if (conn->busy()) {
            s.busy++;
        }
    }

    return s;
}

} // namespace webpush::db
