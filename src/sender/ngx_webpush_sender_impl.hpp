/*
 * The sender's private parts, shared by its three files: the loop
 * (ngx_webpush_sender.cpp: timers, fan-out steps, claims, status), sending
 * (ngx_webpush_sender_send.cpp: a claimed delivery encrypted, signed and
 * posted, its answer decided) and outcomes (ngx_webpush_sender_outcomes.cpp:
 * written back to PostgreSQL in batches).  Not for other components: they
 * use ngx_webpush_sender.hpp.
 */

#ifndef WEBPUSH_SENDER_NGX_WEBPUSH_SENDER_IMPL_HPP
#define WEBPUSH_SENDER_NGX_WEBPUSH_SENDER_IMPL_HPP

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
#include <memory>
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



inline int64_t
now_ms()
{
    ngx_time_t *tp = ngx_timeofday();
    return static_cast<int64_t>(tp->sec) * 1000 + tp->msec;
}


/* a PostgreSQL array literal of text values; nullopt elements are NULL */
inline std::string
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
inline std::string
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
inline std::string
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


inline queue::Urgency
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


inline const char *
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
inline PendingOutcome
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
inline std::string
first_line(const std::string &s)
{
    return s.substr(0, s.find('\n'));
}


inline bool
ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size()
           && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}


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

} // namespace webpush::sender

#endif
