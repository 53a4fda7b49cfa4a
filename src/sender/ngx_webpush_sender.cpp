/*
 * The sender loop: timers, fan-out steps, claims into the node's queue,
 * the status; see ngx_webpush_sender.hpp for the design.
 */

#include "sender/ngx_webpush_sender_impl.hpp"


namespace webpush::sender {

Sender::Impl::Impl(ngx_cycle_t *cycle, MainConf *mcf, db::Pool *pool,
    queue::Queue *queue, const PushHosts &push_hosts)
    : log_(cycle->log), mcf_(mcf), pool_(pool), queue_(queue),
      push_hosts_(push_hosts),
      tick_(cycle->log, "sender tick", [this]() { on_tick(); }),
      turn_(cycle->log, "sender turn", [this]() { on_turn(); })
{
    std::string reason;

    auto *ccf = reinterpret_cast<ngx_core_conf_t *>(
                    ngx_get_conf(cycle->conf_ctx, ngx_core_module));
    ngx_int_t workers = ccf != nullptr && ccf->worker_processes > 0
                        ? ccf->worker_processes : 1;

    /* the floor: what the old default (128 in flight) claimed ahead */
    size_t cap = 2 * mcf->concurrency * static_cast<size_t>(workers);
    backlog_target_.emplace(std::min<size_t>(cap, 256 * workers), cap,
                            mcf->lease * 1000LL);

    encryptor_ = crypto::Encryptor::create(reason);
    if (!encryptor_) {
        throw std::runtime_error("encryption: " + reason);
    }

    vapid_.emplace(*mcf->vapid_key,
                   std::string(reinterpret_cast<char *>(
                                   mcf->vapid_subject.data),
                               mcf->vapid_subject.len));

    policy_.max_attempts = static_cast<unsigned>(mcf->max_attempts);

    /* set only with a webpush_events location (setup_events()) */
    if (mcf->event_key != nullptr) {
        stamper_.emplace(*mcf->event_key);
    }

    HttpClientConfig hc;
    hc.log = cycle->log;
    hc.resolver = glue::http_resolver(cycle, &hc.resolver_timeout);
    hc.ssl = mcf->ssl;
    hc.verify = mcf->ssl_verify != 0;
    hc.timeout = mcf->timeout;
    hc.keepalive = mcf->keepalive;
    hc.http2 = mcf->http2 != 0;
    hc.push_hosts = &push_hosts_;

    http_ = std::make_unique<HttpClient>(hc);

}


Sender::Impl::~Impl()
{
    tick_.cancel();
    turn_.cancel();

    /*
     * Aborts what is in flight (its callbacks run now; nothing more is
     * popped or written back): those leases lapse and they are sent again.
     */
    closing_ = true;
    http_.reset();
}


void
Sender::Impl::start()
{
    last_work_ = ngx_current_msec;
    tick_.arm(tick_interval);
}


void
Sender::Impl::wake(std::string_view payload)
{
    constexpr std::string_view  cancel = "cancel ";

    if (payload.substr(0, cancel.size()) == cancel) {
        int64_t id = 0;
        bool    ok = payload.size() > cancel.size()
                     && payload.size() - cancel.size() <= 12;

        for (char c : payload.substr(cancel.size())) {
            ok = ok && c >= '0' && c <= '9';
            id = id * 10 + (c - '0');
        }

        if (ok) {
            ngx_msec_t  until = ngx_current_msec + mcf_->lease * 1000;

            /* claims older than a lease are gone from the queue by now */
            for (auto it = cancelled_.begin(); it != cancelled_.end(); ) {
                if (static_cast<ngx_msec_int_t>(ngx_current_msec
                                                - it->second) >= 0) {
                    it = cancelled_.erase(it);

                } else {
                    ++it;
                }
            }

            cancelled_[id] = until;
        }
    }

    hinted_ = true;
    last_work_ = ngx_current_msec;

    tick_.post();
}


void
Sender::Impl::on_tick()
{
    glue::barrier(log_, "sender", [this]() { tick(); });

    reschedule();
}


/* a new turn of the event loop: send what the last one left */
void
Sender::Impl::on_turn()
{
    sent_this_turn_ = 0;

    if (closing_) {
        return;
    }

    glue::barrier(log_, "sender", [this]() { send_some(); });

    reschedule();
}


void
Sender::Impl::tick()
{
    if (busy()) {
        last_work_ = ngx_current_msec;
    }

    if (!exiting()) {
        bool retry_due = retry_pending_
                         && static_cast<ngx_msec_int_t>(
                                ngx_current_msec - retry_due_) >= 0;
        bool pace_due = pace_pending_
                        && static_cast<ngx_msec_int_t>(
                               ngx_current_msec - pace_due_) >= 0;

        if (hinted_ || more_ || retry_due || pace_due) {
            hinted_ = false;
            more_ = false;
            retry_pending_ = false;

            /* a step before the slot finds nothing to release: kept */
            if (pace_due) {
                pace_pending_ = false;
            }

            last_poll_ = ngx_current_msec;
            backlog_ = true;

            fanout();

        } else if (ngx_current_msec - last_poll_ >= poll_interval) {
            last_poll_ = ngx_current_msec;
            probe();
        }

        /* due deliveries are claimed as fast as the queue drains */
        if (backlog_) {
            claim();
        }
    }

    send_some();

    if (!results_.empty()
        && (results_.size() >= batch_max || exiting()
            || ngx_current_msec - oldest_result_ >= batch_delay))
    {
        flush();
    }
}


/*
 * Whether the fast rhythm is needed: work is in this worker's hands or in
 * the node's queue, or a step found more than it took.  A query under way
 * is not work: its callback reschedules when it brings some, so a
 * database that does not answer does not keep the worker awake.
 */
bool
Sender::Impl::busy() const
{
    return hinted_
           || (more_ && !fanout_busy_)
           || (backlog_ && !claim_busy_)
           || in_flight_ > 0
           || !results_.empty()
           || !queue_->empty();
}


ngx_msec_t
Sender::Impl::next_tick() const
{
    if (busy() || ngx_current_msec - last_work_ < linger) {
        return tick_interval;
    }

    /*
     * idle: sleep until the next poll, the earliest retry or a paced
     * notification's next start slot comes due
     */
    ngx_msec_t since = ngx_current_msec - last_poll_;
    ngx_msec_t delay = since < poll_interval ? poll_interval - since : 0;

    if (retry_pending_) {
        auto left = static_cast<ngx_msec_int_t>(retry_due_
                                                - ngx_current_msec);
        delay = std::min(delay, static_cast<ngx_msec_t>(std::max<
                                    ngx_msec_int_t>(left, 0)));
    }

    if (pace_pending_) {
        auto left = static_cast<ngx_msec_int_t>(pace_due_
                                                - ngx_current_msec);
        delay = std::min(delay, static_cast<ngx_msec_t>(std::max<
                                    ngx_msec_int_t>(left, 0)));
    }

    return std::max<ngx_msec_t>(delay, 1);
}


/* the tick in "delay" at the latest: an earlier one is kept */
void
Sender::Impl::arm(ngx_msec_t delay)
{
    /* pending outcomes keep a gracefully exiting worker alive */
    tick_.set_cancelable(results_.empty());
    tick_.arm_before(delay);
}


/*
 * After a tick and after anything that may have brought work (a query's
 * answer, outcomes).  A shutting-down worker keeps ticking only while
 * outcomes wait to be written back: they were sent, and lost they would
 * be sent again when their leases lapse.
 */
void
Sender::Impl::reschedule()
{
    if (closing_) {
        return;
    }

    if (exiting()) {
        if (!results_.empty()) {
            arm(tick_interval);
        }

        return;
    }

    arm(next_tick());
}


/*
 * The fallback poll, one query (an idle worker wakes for its answer too):
 * when it finds work, the next tick looks for it as a NOTIFY would have.
 */
void
Sender::Impl::probe()
{
    if (probe_busy_) {
        return;
    }

    probe_busy_ = true;

    pool_->exec(db::sql::pending, db::Params(), [this](db::Outcome &&o) {
        probe_busy_ = false;

        if (!o.ok()) {
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "webpush: polling for work failed: %s",
                          o.error.c_str());
            return;
        }

        const PGresult *res = o.result.get();

        if (PQntuples(res) == 1
            && (*PQgetvalue(res, 0, 0) == 't'
                || *PQgetvalue(res, 0, 1) == 't'))
        {
            hinted_ = true;
            reschedule();
        }
    });
}


void
Sender::Impl::fanout()
{
    if (fanout_busy_) {
        return;
    }

    fanout_busy_ = true;

    pool_->exec(db::sql::fanout, db::Params().add(fanout_chunk),
                [this](db::Outcome &&o) {
        fanout_busy_ = false;

        if (!o.ok()) {
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "webpush: fan-out failed: %s", o.error.c_str());
            return;
        }

        const PGresult *res = o.result.get();
        long long created = std::stoll(PQgetvalue(res, 0, 0));

        if (created >= 0) {
            /* more chunks or notifications may wait; and deliveries do */
            fanned_out_ += created;
            more_ = true;
            backlog_ = true;
        }

        /* a paced notification: its next release when its slot comes */
        if (!PQgetisnull(res, 0, 2)) {
            ngx_msec_t wait = std::max<ngx_msec_t>(
                std::stoul(PQgetvalue(res, 0, 2)), pace_min_interval);
            ngx_msec_t due = ngx_current_msec + wait;

            if (!pace_pending_
                || static_cast<ngx_msec_int_t>(due - pace_due_) < 0)
            {
                pace_due_ = due;
                pace_pending_ = true;
            }
        }

        reschedule();
    });
}


void
Sender::Impl::claim()
{
    if (claim_busy_) {
        return;
    }

    /*
     * Claim what this node's workers start soon (sender/backlog.hpp: its
     * rate times a quarter of the lease, at most twice what they keep in
     * flight), not what fits in the queue: a node that queued a whole
     * fan-out would leave other nodes idle and sit on the leases.
     */
    queue::Stats qs = queue_->stats();

    backlog_target_->sample(qs.count(queue::Counter::popped), now_ms());

    size_t room = backlog_target_->claim_size(
                      qs.depth, std::min(queue_->room(), claim_max));

    if (room == 0) {
        /* the queue holds enough, or is full: claim once it drained */
        return;
    }

    claim_busy_ = true;
    backlog_ = false;

    pool_->exec(db::sql::claim,
                db::Params().add(static_cast<long long>(room))
                            .add(static_cast<long long>(mcf_->lease)),
                [this, room](db::Outcome &&o) {
        claim_busy_ = false;

        if (!o.ok()) {
            ngx_log_error(NGX_LOG_WARN, log_, 0,
                          "webpush: claiming deliveries failed: %s",
                          o.error.c_str());
            reschedule();
            return;
        }

        if (static_cast<size_t>(PQntuples(o.result.get())) == room) {
            backlog_ = true;
        }

        claimed(std::move(o));

        /* what was queued is sent by the next tick, in any worker */
        reschedule();
    });
}


/* claimed rows become queue items; what cannot be sent fails at once */
void
Sender::Impl::claimed(db::Outcome &&o)
{
    const PGresult *res = o.result.get();
    int64_t lease_until = now_ms() + mcf_->lease * 1000LL;

    for (int i = 0; i < PQntuples(res); i++) {
        auto text = [res, i](int col) {
            return std::string(PQgetvalue(res, i, col),
                               PQgetlength(res, i, col));
        };

        claimed_++;

        /* a row (id) or a subscription of a range (batch, claim) */
        queue::Delivery d;
        d.delivery_id = PQgetisnull(res, i, 0) ? 0 : std::stoull(text(0));
        d.batch_id = PQgetisnull(res, i, 1) ? 0 : std::stoull(text(1));
        d.claim = static_cast<uint32_t>(std::stoul(text(2)));
        d.notification_id = std::stoll(text(3));
        d.subscription_id = std::stoll(text(4));
        d.attempts = static_cast<uint32_t>(std::stoul(text(5)));
        d.ttl = PQgetisnull(res, i, 6)
                ? static_cast<int32_t>(mcf_->message_ttl)
                : static_cast<int32_t>(std::stol(text(6)));
        d.urgency = urgency_of(text(7));
        d.topic = text(8);
        d.deadline_ms = std::stoll(text(9)) + d.ttl * 1000LL;
        d.lease_until_ms = lease_until;
        d.payload = text(11);

        std::string reason;
        auto sub = parse_stored_subscription(text(10), reason);

        if (!sub) {
            finish(d, Outcome::failed, 0, reason, 0);
            continue;
        }

        d.endpoint = std::move(sub->endpoint);
        d.p256dh = std::move(sub->p256dh);
        d.auth = std::move(sub->auth);
        d.encoding = sub->aesgcm ? queue::Encoding::aesgcm
                                 : queue::Encoding::aes128gcm;

        const char *why = nullptr;

        switch (queue_->push(d, &why)) {

        case queue::Push::queued:
            break;

        case queue::Push::full:
            /* the estimate was off: hand it back unsent, due at once */
            release(d);
            break;

        case queue::Push::rejected:
            finish(d, Outcome::failed, 0,
                   std::string("cannot be queued: ") + why, 0);
            break;
        }
    }
}


SenderStats
Sender::Impl::stats() const
{
    SenderStats s{};

    s.claimed = claimed_;
    s.fanned_out = fanned_out_;
    s.completed = completed_;
    s.in_flight = in_flight_;
    s.results_pending = results_.size();

    HttpClientStats h = http_->stats();
    s.connections = h.connections;
    s.idle = h.idle;
    s.requests = h.requests;
    s.errors = h.errors;
    s.connects = h.connects;
    s.reuses = h.reuses;
    s.tls_resumed = h.tls_resumed;
    s.h2_connections = h.h2_connections;
    s.streams = h.streams;
    s.refused = h.refused;

    s.origins.assign(origins_.begin(), origins_.end());
    std::sort(s.origins.begin(), s.origins.end(),
              [](const auto &a, const auto &b) { return a.first < b.first; });

    return s;
}


/* Sender ----------------------------------------------------------------- */

Sender::Sender(ngx_cycle_t *cycle, MainConf *mcf, db::Pool *pool,
    queue::Queue *queue, const PushHosts &push_hosts)
    : impl_(std::make_unique<Impl>(cycle, mcf, pool, queue, push_hosts))
{
}


Sender::~Sender() = default;


void
Sender::start()
{
    impl_->start();
}


void
Sender::wake(std::string_view payload)
{
    impl_->wake(payload);
}


SenderStats
Sender::stats() const
{
    return impl_->stats();
}

} // namespace webpush::sender
