/*
 * Outcomes: what each delivery came to, written back to PostgreSQL in
 * batches (write_back.hpp says what happens when a batch is refused).
 */

#include "sender/ngx_webpush_sender_impl.hpp"


namespace webpush::sender {

void
Sender::Impl::finish(const queue::Delivery &d, Outcome outcome, int status,
    std::optional<std::string> error, int64_t delay_ms, bool unreachable)
{
    switch (outcome) {
    case Outcome::sent:
        queue_->count(queue::Counter::sent);
        break;
    case Outcome::gone:
        queue_->count(queue::Counter::gone);
        break;
    case Outcome::failed:
        queue_->count(queue::Counter::failed);
        break;
    case Outcome::retry:
        queue_->count(queue::Counter::retried);
        break;
    }

    if (results_.empty()) {
        oldest_result_ = ngx_current_msec;
    }

    /* pending outcomes keep a gracefully exiting worker alive (on_tick) */
    tick_.set_cancelable(false);

    PendingOutcome o = pending_outcome(d);
    o.outcome = outcome_name(outcome);
    o.status = status;
    o.error = std::move(error);
    o.delay_ms = delay_ms;
    o.unreachable = unreachable;

    results_.add(std::move(o));
}


/* a claimed delivery that was not sent goes back without using an attempt */
void
Sender::Impl::release(const queue::Delivery &d)
{
    if (results_.empty()) {
        oldest_result_ = ngx_current_msec;
    }

    tick_.set_cancelable(false);

    PendingOutcome o = pending_outcome(d);
    o.outcome = "release";
    results_.add(std::move(o));
}


/*
 * One statement per batch of outcomes.  A batch refused is split or held
 * back (see write_back.hpp): never retried as it is at the tick's pace.
 */
void
Sender::Impl::flush()
{
    if (flush_busy_) {
        return;
    }

    auto taken = results_.take(now_ms());

    if (!taken) {
        return;
    }

    WriteBatch batch = std::move(*taken);

    if (!results_.empty()) {
        oldest_result_ = ngx_current_msec;
    }

    std::vector<uint64_t> ids;
    std::vector<uint64_t> batches;
    std::vector<uint32_t> claims;
    std::vector<int64_t> notifications;
    std::vector<int64_t> subscriptions;
    std::vector<std::optional<std::string>> outcomes;
    std::vector<int> statuses;
    std::vector<std::optional<std::string>> errors;
    std::vector<int64_t> delays;
    std::vector<std::optional<std::string>> unreachable;

    for (auto &r : batch.items) {
        ids.push_back(r.id);
        batches.push_back(r.batch);
        claims.push_back(r.claim);
        notifications.push_back(r.notification);
        subscriptions.push_back(r.subscription);
        outcomes.emplace_back(r.outcome);
        statuses.push_back(r.status);
        errors.push_back(r.error);
        delays.push_back(r.delay_ms);
        unreachable.emplace_back(r.unreachable ? "t" : "f");
    }

    db::Params params;
    params.add(id_array(ids)).add(id_array(batches))
          .add(number_array(claims)).add(number_array(notifications))
          .add(number_array(subscriptions)).add(text_array(outcomes))
          .add(number_array(statuses)).add(text_array(errors))
          .add(number_array(delays)).add(text_array(unreachable))
          .add(static_cast<long long>(policy_.max_attempts))
          .add(std::string_view(mcf_->delivery_log ? "t" : "f"));

    flush_busy_ = true;

    pool_->exec(db::sql::complete, std::move(params),
                [this, batch = std::move(batch)](db::Outcome &&o) mutable {
        flush_busy_ = false;
        written(std::move(o), std::move(batch));
    });
}


void
Sender::Impl::written(db::Outcome &&o, WriteBatch &&batch)
{
    if (!o.ok()) {
        std::string why = first_line(o.error);
        size_t n = batch.items.size();
        std::string first = n ? batch.items.front().label() : "";
        bool split = batch.split;
        bool data = WriteBack::data_error(o.sqlstate);
        ngx_uint_t level;

        /* kept: their leases would otherwise make them resend */
        switch (results_.refused(std::move(batch), data, now_ms())) {

        case Refusal::backoff:
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "webpush: writing %uz outcomes back failed: %s; "
                          "trying again in %L ms", n, why.c_str(),
                          static_cast<int64_t>(results_.delay_ms()));
            break;

        case Refusal::split:
            /* one line for the batch, not one per part */
            level = split ? NGX_LOG_INFO : NGX_LOG_WARN;
            ngx_log_error(level, log_, 0,
                          "webpush: writing %uz outcomes back failed: %s; "
                          "writing them in smaller batches", n,
                          why.c_str());
            break;

        case Refusal::stripped:
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "webpush: delivery %s: its outcome was refused "
                          "(%s), written without its error text", first.c_str(),
                          why.c_str());
            break;

        case Refusal::dropped:
            ngx_log_error(NGX_LOG_ERR, log_, 0,
                          "webpush: delivery %s: its outcome was refused "
                          "(%s), left to its lease", first.c_str(),
                          why.c_str());
            break;
        }

        /* the parts are written at once; a hold waits for the ticks */
        if (data) {
            flush();
        }

        /* and try again, also when shutting down (see reschedule) */
        if (results_.empty()) {
            tick_.set_cancelable(true);
        }

        reschedule();
        return;
    }

    results_.written();
    completed_ += batch.items.size();

    if (results_.empty()) {
        tick_.set_cancelable(true);
    }

    /*
     * Retries are due again after their delay from now (the database
     * counted from its own, earlier now()): a claim then finds them,
     * rather than the poll up to a second later.
     */
    for (const auto &r : batch.items) {
        if (std::string_view(r.outcome) != "retry"
            && std::string_view(r.outcome) != "release")
        {
            continue;
        }

        ngx_msec_t due = ngx_current_msec
                         + static_cast<ngx_msec_t>(
                               std::max<int64_t>(r.delay_ms, 0));

        if (!retry_pending_
            || static_cast<ngx_msec_int_t>(due - retry_due_) < 0)
        {
            retry_due_ = due;
            retry_pending_ = true;
        }
    }

    if (!results_.empty() && exiting()) {
        flush();
    }

    reschedule();
}

} // namespace webpush::sender
