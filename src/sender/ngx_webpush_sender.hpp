/*
 * The sender loop of a worker process.
 *
 * PostgreSQL is the truth, shared memory a work buffer:
 *
 *   fan-out   webpush_fanout_step() turns a notification into ranges of
 *             up to 500 target subscriptions (webpush_batch), a chunk at a
 *             time (any worker or node may take the next chunk); a paced
 *             one's (ratePerMinute) get a row per delivery, parked and
 *             released by later steps as their start slots come
 *             (db/sql.cpp, db/sql_ranges.cpp);
 *   claim     webpush_claim_work() leases due rows and ranges (SKIP
 *             LOCKED) and their deliveries wait in the node's shared-memory
 *             queue, claimed once it drained to half its backlog target
 *             (sender/backlog.hpp; back-pressure, nothing dropped);
 *   send      any worker pops from the queue up to webpush_concurrency in
 *             flight, encrypts (RFC 8291 or aesgcm), signs VAPID (cached
 *             per origin) and posts with nginx's own HTTP client;
 *   complete  outcomes are written back in batches by
 *             webpush_complete_work(): sent (delivery log), gone
 *             (subscription expired), failed, or retry at a later time (a
 *             delivery of a range gets a row of its own then).
 *
 * Work is found by LISTEN/NOTIFY (a hint) and by a poll every second (the
 * truth: one query asking whether anything waits, then a fan-out step and
 * a claim if so).  A lease that lapses (a worker or node died) makes the
 * delivery due again.
 *
 * Rhythm: while there is work (in flight, outcomes to write back, items in
 * the node's queue, more to fan out or claim) the loop ticks every 20 ms,
 * and for a second after, so that workers woken by a NOTIFY see what one
 * of them claimed into the queue.  An idle worker sleeps until the next
 * poll, until the earliest retry it wrote back comes due, or until the
 * next start slot of a paced notification it stepped (at most 4 times a
 * second); a NOTIFY or a query's answer that brings work wakes it at
 * once.  During a graceful shutdown the worker claims nothing more and
 * takes nothing more from the node's queue (the new workers of a reload
 * send what waits there), finishes what is in flight and writes its
 * outcomes back.
 */

#pragma once

#include "ngx.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>


namespace webpush {

struct MainConf;

namespace db {
class Pool;
}

namespace queue {
class Queue;
}


namespace push {
class PushHosts;
}


namespace sender {

using push::PushHosts;


/* outcomes per push-service origin, this worker's */
struct OriginStats {
    uint64_t    sent;
    uint64_t    failed;
    uint64_t    retried;
    uint64_t    gone;
    uint64_t    no_answer;         /* transport errors and timeouts */
};


/* this worker's sender */
struct SenderStats {
    uint64_t    claimed;           /* deliveries leased from the database */
    uint64_t    fanned_out;        /* deliveries created by fan-out steps */
    uint64_t    completed;         /* outcomes written back */
    ngx_uint_t  in_flight;         /* push requests waiting for an answer */
    ngx_uint_t  results_pending;   /* outcomes not yet written back */
    ngx_uint_t  connections;       /* to push services, idle included */
    ngx_uint_t  idle;
    uint64_t    requests;          /* answered with an HTTP status */
    uint64_t    errors;            /* no answer: transport errors */
    uint64_t    connects;
    uint64_t    reuses;            /* requests on kept-alive connections */
    uint64_t    tls_resumed;
    ngx_uint_t  h2_connections;    /* HTTP/2, idle included */
    uint64_t    streams;           /* requests on HTTP/2 streams */
    uint64_t    refused;           /* streams refused and sent again */

    std::vector<std::pair<std::string, OriginStats>>  origins;
};


class Sender {
public:
    /* push_hosts: webpush_push_hosts, as long as the sender lives */
    Sender(ngx_cycle_t *cycle, MainConf *mcf, db::Pool *pool,
           queue::Queue *queue, const PushHosts &push_hosts);
    ~Sender();

    Sender(const Sender &) = delete;
    Sender &operator=(const Sender &) = delete;

    void start();

    /*
     * A NOTIFY arrived: look for work now.  Payload "cancel <id>": that
     * notification was cancelled; its deliveries in this node's queue are
     * given back unsent (they become cancelled) for a lease from now.
     */
    void wake(std::string_view payload = {});

    SenderStats stats() const;

    class Impl;

private:
    std::unique_ptr<Impl>  impl_;
};

} // namespace sender
} // namespace webpush
