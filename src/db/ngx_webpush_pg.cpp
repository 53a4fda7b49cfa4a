/*
 * PostgreSQL connection pool on nginx's event loop; see the header.
 */

#include "ngx_webpush_conf.hpp"

#include "db/ngx_webpush_pg.hpp"
#include "db/ngx_webpush_pg_connection.hpp"


namespace webpush::db {

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


/* Pool ------------------------------------------------------------------- */

Pool::Pool(ngx_log_t *log, Conninfo conninfo, ngx_uint_t size,
    ngx_msec_t timeout, std::string setup_sql, ResolverConf resolver)
    : log_(log), conninfo_(std::move(conninfo)), timeout_(timeout),
      setup_sql_(std::move(setup_sql)), resolver_(resolver),
      deliver_(log, "database callbacks", [this]() { deliver(); })
{
    for (ngx_uint_t i = 0; i < size; i++) {
        connections_.push_back(std::make_unique<Connection>(this, i));
    }
}


Pool::~Pool()
{
    /*
     * Only at process exit: the requests behind the jobs are not
     * finalized any more, so the callbacks are dropped, not called.
     */
    deliver_.cancel();
    connections_.clear();

    for (glue::List<Job> *jobs : {&waiting_, &finished_}) {
        while (Job *job = jobs->front()) {
            jobs->remove(job->link);
            delete job;
        }
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
Pool::listen(std::string channel,
    std::function<void(std::string_view payload)> on_notify)
{
    channel_ = std::move(channel);
    on_notify_ = std::move(on_notify);
}


void
Pool::notified(std::string_view payload)
{
    if (on_notify_) {
        on_notify_(payload);
    }
}


void
Pool::exec(const Statement &stmt, Params params, Callback done)
{
    enqueue(std::make_unique<Job>(this, &stmt, std::move(params),
                                  std::move(done)));
}


void
Pool::exec_sql(std::string sql, Params params, Callback done)
{
    auto job = std::make_unique<Job>(this, nullptr, std::move(params),
                                     std::move(done));
    job->sql = std::move(sql);
    enqueue(std::move(job));
}


/* from here on nothing throws: the job is the pool's */
void
Pool::enqueue(std::unique_ptr<Job> owned)
{
    Job *job = owned.release();

    job->deadline.arm(timeout_);
    waiting_.push_back(job->link, job);

    dispatch();
}


void
Pool::dispatch() noexcept
{
    if (!waiting_.empty()) {
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
        if (waiting_.empty()) {
            return;
        }

        if (conn->idle()) {
            Job *job = waiting_.front();
            waiting_.remove(job->link);
            conn->run(job);
        }
    }
}


void
Pool::connection_ready(Connection *) noexcept
{
    dispatch();
}


void
Pool::setup_done(bool ok) noexcept
{
    setup_running_ = false;
    schema_ready_ = ok;
}


void
Pool::job_expired(Job *job) noexcept
{
    count_timeout();

    if (job->conn != nullptr) {
        job->conn->abort_job("query timed out");
        return;
    }

    waiting_.remove(job->link);

    Outcome outcome;
    outcome.error = "no database connection available in time";
    outcome.unavailable = true;
    job_finished(job, std::move(outcome));
}


/* the callback runs from a posted event, not from the caller's stack */
void
Pool::job_finished(Job *job, Outcome &&outcome) noexcept
{
    queries_++;

    if (!outcome.ok() && !outcome.unavailable) {
        errors_++;
    }

    job->deadline.cancel();
    job->outcome = std::move(outcome);
    finished_.push_back(job->link, job);

    deliver_.post();
}


void
Pool::deliver() noexcept
{
    /* the callbacks may queue more: those wait for the next round */
    glue::List<Job> batch;

    finished_.move_to(batch);

    while (Job *job = batch.front()) {
        batch.remove(job->link);

        std::unique_ptr<Job> owned(job);
        Callback done = std::move(job->done);
        Outcome outcome = std::move(job->outcome);
        owned.reset();

        glue::barrier(log_, "query callback", [&]() {
            done(std::move(outcome));
        });
    }
}


PoolStats
Pool::stats() const
{
    PoolStats s{};

    s.connections = connections_.size();
    s.queued = waiting_.size();
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
