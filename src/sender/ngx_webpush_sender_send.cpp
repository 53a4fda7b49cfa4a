/*
 * Sending: a claimed delivery encrypted (RFC 8291), signed (RFC 8292) and
 * posted through the push client, and what its answer decides.
 */

#include "sender/ngx_webpush_sender_impl.hpp"


namespace webpush::sender {

void
Sender::Impl::send_some()
{
    ngx_uint_t limit = mcf_->concurrency;

    /*
     * A worker shutting down (a reload, nginx -s quit) takes nothing more
     * from the node's queue: it finishes what it holds and writes it back.
     * The queue outlives it (a reload keeps the zone): the new workers
     * send what waits there, and after a quit the leases bring it back.
     * Sent from here, a delivery would go out late and badly: an exiting
     * worker's HTTP/2 connections take no new stream and HTTP/1.1 ones
     * are not kept alive, so each push opens a connection of its own
     * while the worker keeps popping as answers come in; pushes sent
     * that way ran past their deadline (3 x webpush_timeout) after the
     * push service had them, and their retries sent them again.
     */
    if (exiting() || in_flight_ >= limit || queue_->empty()) {
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
     * the write-back makes it 'cancelled' (webpush_complete_work).
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

} // namespace webpush::sender
