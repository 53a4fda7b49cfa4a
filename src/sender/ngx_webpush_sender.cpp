/*
 * The sender loop; see the header for the design.
 */

#include "ngx_webpush_conf.hpp"

#include "crypto/ece.hpp"
#include "crypto/vapid.hpp"
#include "db/ngx_webpush_pg.hpp"
#include "glue/ngx_webpush_glue.hpp"
#include "push/ngx_webpush_push_client.hpp"
#include "queue/ngx_webpush_queue.hpp"
#include "sender/ngx_webpush_sender.hpp"
#include "push/push_hosts.hpp"
#include "sender/backlog.hpp"
#include "sender/event_payload.hpp"
#include "sender/log_limit.hpp"
#include "sender/outcome_text.hpp"
#include "sender/retry.hpp"
#include "sender/stored.hpp"
#include "sender/write_back.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>


namespace webpush::sender {

/* the push client (src/push/): the one interface to push services */
using push::HttpClient;
using push::HttpClientConfig;
using push::HttpClientStats;
using push::PushFailure;
using push::PushRequest;
using push::PushResponse;

namespace {

/*
 * How often the database is asked for work when nothing hints at it: the
 * fallback for NOTIFYs that never came (a lost LISTEN connection, another
 * node's retries and lapsed leases).  An idle worker wakes only for it.
 */
constexpr ngx_msec_t  poll_interval = 1000;

/* the loop's rhythm while there is work: queue pops and result batches */
constexpr ngx_msec_t  tick_interval = 20;

/*
 * How long the fast rhythm outlasts the last sign of work.  Workers of a
 * node learn of what another one queued only by looking at the queue: a
 * NOTIFY wakes them all, one claims, and the others must still be looking
 * when its claim lands in the queue.
 */
constexpr ngx_msec_t  linger = 1000;

/*
 * Deliveries encrypted and posted in one go (~50 µs each): more waits for
 * the next turn of the event loop, so that a big fan-out does not hold up
 * the worker's other connections.
 */
constexpr size_t      send_batch = 16;

/* deliveries per fan-out step and per claim */
constexpr int         fanout_chunk = 2000;
constexpr size_t      claim_max = 500;

/*
 * A paced notification (ratePerMinute) is stepped again when its next
 * start slot comes, by the worker that stepped it last, but not more often
 * than this: each release wakes every worker of every node to claim, so
 * a fast pace releases a few at a time rather than one every few ms.
 * The others' poll (poll_interval) steps it too, should that worker be
 * gone.
 */
constexpr ngx_msec_t  pace_min_interval = 250;

/* origins counted one by one; the rest (never, with an allow-list) as one */
constexpr size_t      max_origins = 256;

/* outcomes written back per statement, and the longest they wait */
constexpr size_t      batch_max = 500;
constexpr ngx_msec_t  batch_delay = 50;



int64_t
now_ms()
{
    ngx_time_t *tp = ngx_timeofday();
    return static_cast<int64_t>(tp->sec) * 1000 + tp->msec;
}


/* a PostgreSQL array literal of text values; nullopt elements are NULL */
std::string
text_array(const std::vector<std::optional<std::string>> &values)
{
    std::string out = "{";

    for (size_t i = 0; i < values.size(); i++) {
        if (i != 0) {
            out += ',';
        }

        if (!values[i]) {
            out += "NULL";
            continue;
        }

        out += '"';

        for (char ch : *values[i]) {
            if (ch == '"' || ch == '\\') {
                out += '\\';
            }

            out += ch;
        }

        out += '"';
    }

    return out + "}";
}


template <typename T>
std::string
number_array(const std::vector<T> &values)
{
    std::string out = "{";

    for (size_t i = 0; i < values.size(); i++) {
        if (i != 0) {
            out += ',';
        }

        out += std::to_string(values[i]);
    }

    return out + "}";
}


/* ids of rows or ranges: 0 (none) is NULL */
std::string
id_array(const std::vector<uint64_t> &values)
{
    std::string out = "{";

    for (size_t i = 0; i < values.size(); i++) {
        if (i != 0) {
            out += ',';
        }

        out += values[i] == 0 ? std::string("NULL")
                              : std::to_string(values[i]);
    }

    return out + "}";
}


queue::Urgency
urgency_of(std::string_view s)
{
    if (s == "very-low") {
        return queue::Urgency::very_low;
    }

    if (s == "low") {
        return queue::Urgency::low;
    }

    if (s == "normal") {
        return queue::Urgency::normal;
    }

    if (s == "high") {
        return queue::Urgency::high;
    }

    return queue::Urgency::none;
}


const char *
urgency_header(queue::Urgency u)
{
    switch (u) {
    case queue::Urgency::very_low:
        return "very-low";
    case queue::Urgency::low:
        return "low";
    case queue::Urgency::normal:
        return "normal";
    case queue::Urgency::high:
        return "high";
    default:
        return nullptr;
    }
}


/* who an outcome is for: a row, or a subscription of a claimed range */
PendingOutcome
pending_outcome(const queue::Delivery &d)
{
    PendingOutcome o;
    o.id = d.delivery_id;
    o.batch = d.batch_id;
    o.claim = d.claim;
    o.notification = d.notification_id;
    o.subscription = d.subscription_id;
    return o;
}


/* libpq's message without its CONTEXT lines: one log line */
std::string
first_line(const std::string &s)
{
    return s.substr(0, s.find('\n'));
}


bool
ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size()
           && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}


} // namespace


class Sender::Impl {
public:
    Impl(ngx_cycle_t *cycle, MainConf *mcf, db::Pool *pool,
         queue::Queue *queue, const PushHosts &push_hosts);
    ~Impl();

    void start();
    void wake(std::string_view payload);
    SenderStats stats() const;

private:
    void on_tick();
    void on_turn();

    void tick();
    bool busy() const;
    ngx_msec_t next_tick() const;
    void arm(ngx_msec_t delay);
    void reschedule();
    void probe();
    void fanout();
    void claim();
    void claimed(db::Outcome &&o);
    void send_some();
    void send(queue::Delivery &&d);
    void answered(const queue::Delivery &d, const std::string &origin,
                  PushResponse &&r);
    void finish(const queue::Delivery &d, Outcome outcome, int status,
                std::optional<std::string> error, int64_t delay_ms,
                bool unreachable = false);
    void log_failure(const queue::Delivery &d, const std::string &origin,
                     unsigned status, const std::string &why,
                     const Decision &decision);
    void written(db::Outcome &&o, WriteBatch &&batch);
    void release(const queue::Delivery &d);
    void flush();
    bool exiting() const { return ngx_exiting || ngx_quit || ngx_terminate; }

    ngx_log_t                        *log_;
    MainConf                         *mcf_;
    db::Pool                         *pool_;
    queue::Queue                     *queue_;
    const PushHosts                  &push_hosts_;
    std::optional<crypto::Encryptor>  encryptor_;
    std::optional<crypto::VapidCache> vapid_;
    std::optional<EventStamper>       stamper_;   /* webpush_events */
    std::unique_ptr<HttpClient>       http_;
    RetryPolicy                       policy_;
    RandomSource                      random_ = default_random();

    glue::Event                       tick_;
    glue::Event                       turn_;      /* the next loop turn */
    size_t                            sent_this_turn_ = 0;

    bool                              probe_busy_ = false;
    bool                              fanout_busy_ = false;
    bool                              claim_busy_ = false;
    bool                              flush_busy_ = false;
    bool                              closing_ = false;   /* destructor */
    bool                              hinted_ = true;
    bool                              more_ = false;      /* fan-out */
    bool                              backlog_ = true;    /* claims */
    ngx_msec_t                        last_poll_ = 0;
    ngx_msec_t                        last_work_ = 0;    /* see linger */
    ngx_msec_t                        oldest_result_ = 0;

    /* the earliest retry this worker wrote back: due for a claim then */
    ngx_msec_t                        retry_due_ = 0;
    bool                              retry_pending_ = false;

    /* the next start slot of a paced notification this worker stepped */
    ngx_msec_t                        pace_due_ = 0;
    bool                              pace_pending_ = false;

    ngx_uint_t                        in_flight_ = 0;
    WriteBack                         results_{batch_max};

    /* refused credentials (401/403): one line per origin a minute */
    LogLimiter                        refusals_;

    std::unordered_map<std::string, OriginStats>  origins_;

    uint64_t                          claimed_ = 0;
    uint64_t                          fanned_out_ = 0;
    uint64_t                          completed_ = 0;

    /* deliveries this node keeps queued at most (see claim()) */
    std::optional<Backlog>            backlog_target_;

    /* notifications cancelled (NOTIFY "cancel <id>") -> until when */
    std::unordered_map<int64_t, ngx_msec_t>  cancelled_;
};


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

    size_t depth = qs.depth;
    size_t target = backlog_target_->target();
    size_t want = depth < target ? target - depth : 0;
    size_t room = std::min({queue_->room(), claim_max, want});

    if (room == 0) {
        /* back-pressure: the queue is full; claim once it drained */
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


void
Sender::Impl::send_some()
{
    ngx_uint_t limit = mcf_->concurrency;

    if (in_flight_ >= limit || queue_->empty()) {
        return;
    }

    /*
     * At most send_batch per turn of the event loop, counted over every
     * caller: a burst of answers calls send_some() once per answer.  The
     * rest goes out in the next turn (ngx_posted_next_events: after the
     * next epoll_wait, which then does not block).
     */
    if (sent_this_turn_ >= send_batch) {
        return;
    }

    std::vector<queue::Delivery> batch;
    size_t n = queue_->pop(batch, std::min<size_t>(limit - in_flight_,
                                                   send_batch
                                                   - sent_this_turn_));

    if (n == 0) {
        return;
    }

    if (sent_this_turn_ == 0) {
        turn_.post_next();
    }

    sent_this_turn_ += n;

    queue_->in_flight(static_cast<int64_t>(n));

    for (auto &d : batch) {
        send(std::move(d));
    }
}


void
Sender::Impl::send(queue::Delivery &&d)
{
    int64_t now = now_ms();

    auto give_up = [this, &d](Outcome outcome, std::string why) {
        queue_->in_flight(-1);
        finish(d, outcome, 0, sanitize_text(why), 0);
    };

    /*
     * Its notification was cancelled after the claim: given back unsent,
     * the write-back makes it 'cancelled' (webpush_complete).
     */
    auto c = cancelled_.find(d.notification_id);

    if (c != cancelled_.end()
        && static_cast<ngx_msec_int_t>(c->second - ngx_current_msec) > 0)
    {
        queue_->in_flight(-1);
        release(d);
        return;
    }

    /*
     * Waited in the queue for half its lease: sending now could overlap
     * with another claim once the lease lapses, so it is left to that.
     */
    if (d.lease_until_ms - now < mcf_->lease * 500LL) {
        queue_->in_flight(-1);
        return;
    }

    int64_t ttl = d.ttl;

    if (ttl > 0) {
        ttl = (d.deadline_ms - now) / 1000;

        if (ttl <= 0) {
            queue_->count(queue::Counter::expired);
            give_up(Outcome::failed, "expired before it could be sent");
            return;
        }
    }

    /* checked again: rows written by others never met the allow-list */
    std::string reason;
    auto endpoint = push_hosts_.match(
                        d.endpoint, reason);

    if (!endpoint) {
        give_up(Outcome::failed, "endpoint refused: " + reason);
        return;
    }

    auto keys = crypto::SubscriptionKeys::parse(d.p256dh, d.auth, reason);
    if (!keys) {
        give_up(Outcome::failed, reason);
        return;
    }

    bool aesgcm = d.encoding == queue::Encoding::aesgcm;
    crypto::EncryptedMessage message;

    /* webpush_events: the payload carries its delivery's signed token */
    std::optional<std::string> stamped;

    if (stamper_) {
        stamped = stamper_->stamp(d.payload, d.notification_id,
                                  d.subscription_id);
    }

    if (!encryptor_->encrypt(aesgcm ? crypto::ContentEncoding::aesgcm
                                    : crypto::ContentEncoding::aes128gcm,
                             *keys, stamped ? *stamped : d.payload, 0,
                             message, reason))
    {
        give_up(Outcome::failed, reason);
        return;
    }

    const crypto::VapidToken *token = vapid_->get(endpoint->origin,
                                                  now / 1000, reason);
    if (token == nullptr) {
        give_up(Outcome::retry, "VAPID: " + reason);
        return;
    }

    PushRequest req;
    req.target.tls = endpoint->scheme == "https";
    req.target.host = endpoint->host;
    req.target.port = endpoint->port;
    req.target.path = endpoint->path;
    req.target.origin = endpoint->origin;

    auto &h = req.headers;
    h.emplace_back("Content-Type", "application/octet-stream");
    h.emplace_back("TTL", std::to_string(ttl));

    if (aesgcm) {
        h.emplace_back("Content-Encoding", "aesgcm");
        h.emplace_back("Encryption", "salt=" + message.salt);
        h.emplace_back("Crypto-Key",
                       "dh=" + message.dh + ";" + token->crypto_key);
        h.emplace_back("Authorization", token->webpush_authorization);

    } else {
        h.emplace_back("Content-Encoding", "aes128gcm");
        h.emplace_back("Authorization", token->authorization);
    }

    if (const char *urgency = urgency_header(d.urgency)) {
        h.emplace_back("Urgency", urgency);
    }

    if (!d.topic.empty()) {
        h.emplace_back("Topic", d.topic);
    }

    /* WNS refuses TTL 0 with its default cache policy */
    if (ends_with(endpoint->host, ".notify.windows.com")) {
        h.emplace_back("X-WNS-Cache-Policy", ttl > 0 ? "cache" : "no-cache");
    }

    req.body.assign(reinterpret_cast<const char *>(message.body.data()),
                    message.body.size());

    in_flight_++;

    http_->post(std::move(req),
                [this, d = std::move(d), origin = endpoint->origin]
                (PushResponse &&r) {
        answered(d, origin, std::move(r));
    });
}


void
Sender::Impl::answered(const queue::Delivery &d, const std::string &origin,
    PushResponse &&r)
{
    in_flight_--;
    queue_->in_flight(-1);

    auto it = origins_.find(origin);

    if (it == origins_.end()) {
        it = origins_.emplace(origins_.size() < max_origins ? origin
                                                            : "other",
                              OriginStats{}).first;
    }

    OriginStats &per_origin = it->second;

    if (r.status == 0) {
        per_origin.no_answer++;
    }

    int64_t now = now_ms();
    int64_t created_ms = d.deadline_ms - d.ttl * 1000LL;
    int64_t waited = std::max<int64_t>(0, (now - created_ms) / 1000);

    auto status = static_cast<unsigned>(r.status);

    Answer answer;
    answer.status = status;
    answer.retry_after = r.retry_after;
    answer.body = r.body;
    answer.permanent = r.permanent;

    Decision decision = decide(policy_, answer, d.attempts, d.ttl, waited,
                               now / 1000, random_);

    std::optional<std::string> error;

    /* a name that does not exist, a port nobody listens on (see flush) */
    bool unreachable = decision.outcome == Outcome::failed && status == 0
                       && r.failure != PushFailure::none;

    if (decision.outcome != Outcome::sent) {
        /* Apple and FCM say in the body why they refuse */
        std::string reason = status == 400 || status == 401 || status == 403
                             ? push_service_reason(r.body) : std::string();

        /* push-service bytes: valid UTF-8 for SQL and logs, bounded */
        error = describe_failure(status, r.error, r.wns_error, reason);

        log_failure(d, origin, status, *error, decision);
    }

    switch (decision.outcome) {
    case Outcome::sent:
        per_origin.sent++;
        break;
    case Outcome::gone:
        per_origin.gone++;
        break;
    case Outcome::failed:
        per_origin.failed++;
        break;
    case Outcome::retry:
        per_origin.retried++;
        break;
    }

    finish(d, decision.outcome, static_cast<int>(r.status),
           std::move(error), decision.delay_ms, unreachable);

    if (closing_) {
        return;
    }

    send_some();

    if (exiting()) {
        flush();
    }
}


/*
 * Each failure at notice (retries at info), except refused credentials:
 * after a VAPID key rotation every delivery to a push service fails
 * alike, so those are logged once per origin a minute, the rest at debug.
 */
void
Sender::Impl::log_failure(const queue::Delivery &d, const std::string &origin,
    unsigned status, const std::string &why, const Decision &decision)
{
    ngx_uint_t level = decision.outcome == Outcome::retry
                       ? NGX_LOG_INFO : NGX_LOG_NOTICE;

    if (status != 401 && status != 403) {
        ngx_log_error(level, log_, 0,
                      "webpush: delivery %s to %s: %s, %s",
                      pending_outcome(d).label().c_str(),
                      d.endpoint.substr(0, 80).c_str(),
                      why.c_str(), decision.reason);
        return;
    }

    auto verdict = refusals_.check(origin, now_ms());

    if (!verdict.log) {
        ngx_log_error(NGX_LOG_DEBUG, log_, 0,
                      "webpush: delivery %s to %s: %s, %s",
                      pending_outcome(d).label().c_str(),
                      d.endpoint.substr(0, 80).c_str(),
                      why.c_str(), decision.reason);
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, log_, 0,
                  "webpush: delivery %s to %s: %s, %s; %uL more refusals "
                  "from %s in the last minute (logged once a minute)",
                  pending_outcome(d).label().c_str(),
                  d.endpoint.substr(0, 80).c_str(),
                  why.c_str(), decision.reason, verdict.suppressed,
                  origin.c_str());
}


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
          .add(static_cast<long long>(policy_.max_attempts));

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
