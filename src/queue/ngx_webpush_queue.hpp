/*
 * The node-local send queue: claimed deliveries wait in a shared memory
 * zone ("webpush_queue", webpush_queue_size bytes, an ngx_slab pool) until
 * a sender in any worker takes them.
 *
 * Life cycle:
 *
 *   config time   add_queue_zone(cf, mcf->queue_size) declares the zone;
 *                 nginx creates it and runs the zone's init in the master.
 *   reload (HUP)  same size: the zone, its items and its counters are kept
 *                 and shared by old and new workers (each item is popped
 *                 once, under the lock).  Another size: a fresh, empty
 *                 zone for the new workers; the old workers keep the old
 *                 one until they exit, and what they leave in it comes
 *                 back when its database lease lapses.
 *   worker        Queue q(zone) in init process (zone: the pointer
 *                 add_queue_zone() returned, or find_queue_zone(cycle)),
 *                 destroyed in exit process.
 *
 * The zone is a staging buffer, not durable state: every item is a row
 * leased in the database, so an item lost with a dying worker (popped,
 * not finished) is claimed again once its lease lapses.
 *
 * Back-pressure: push() never evicts and never drops.  When the slab has
 * no room it answers Push::full and the caller keeps the delivery (or
 * hands it back) and stops claiming.  room() estimates how many more
 * items fit, from the whole free pages and the recent item size (which
 * follows larger items at once), so a claimer can size its next claim;
 * the estimate errs on the low side, yet push() may still refuse after a
 * positive room() (another worker pushed meanwhile).
 *
 * Wake-ups: there are no IPC channels between workers.  push() bumps
 * generation(); a sender reads depth() on its tick (a plain read of a
 * shared word, no lock, no system call): every 20 ms while it has work or
 * had some in the last second, every second when idle; it calls pop()
 * only when there is something to take.
 *
 * Concurrency: every change of the list happens under the slab mutex
 * (ngx_shmtx_lock(&shpool->mutex)); inside it only ngx_slab_*_locked and
 * memcpy run.  The counters are updated with ngx_atomic_fetch_add() and
 * read without the lock.  in_flight is kept per worker process (a slot per
 * pid), so a killed worker's share disappears from stats() at once and is
 * reset when a new process takes the slot.
 *
 * Everything here is noexcept: callable from nginx handlers and events.
 */

#pragma once

#include "ngx.hpp"

#include "queue/item.hpp"
#include "queue/stats.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>


namespace webpush::queue {

/*
 * Declares the zone "webpush_queue" of "size" bytes (at config time, e.g.
 * from postconfiguration).  Returns the zone, or nullptr after logging
 * why.  Calling it again in the same configuration returns the same zone.
 */
ngx_shm_zone_t *add_queue_zone(ngx_conf_t *cf, size_t size) noexcept;

/* the zone add_queue_zone() declared in this cycle, nullptr if none */
ngx_shm_zone_t *find_queue_zone(ngx_cycle_t *cycle) noexcept;


enum class Push {
    queued,        /* in the queue, generation() bumped */
    full,          /* no room: keep it, stop claiming, try again later */
    rejected,      /* invalid (field too long, ...): a bug upstream; mark
                      the delivery failed, do not try again */
};


struct Shared;
struct WorkerSlot;


class Queue {
public:
    /*
     * Attaches a worker to the zone (after nginx initialised it) and takes
     * a per-process slot for in_flight.  ok() tells whether it worked;
     * a Queue that is not ok() refuses pushes (Push::full) and pops
     * nothing.
     */
    explicit Queue(ngx_shm_zone_t *zone) noexcept;
    ~Queue();

    Queue(const Queue &) = delete;
    Queue &operator=(const Queue &) = delete;

    bool ok() const noexcept;

    /*
     * Queues a copy of d at the tail.  On Push::full or Push::rejected
     * *reason (when given) says why, a static string.
     */
    Push push(const Delivery &d, const char **reason = nullptr) noexcept;

    /*
     * Moves up to "max" items from the head into "out" (appended, oldest
     * first) and frees them in the zone.  Returns how many were appended.
     * The caller owns them now: it should in_flight(+n) at once and
     * in_flight(-1) plus an outcome count() for each as it finishes.
     */
    size_t pop(std::vector<Delivery> &out, size_t max) noexcept;

    /* lock-free reads */
    size_t depth() const noexcept;
    bool empty() const noexcept { return depth() == 0; }
    uint64_t generation() const noexcept;
    size_t capacity() const noexcept;        /* bytes for items */

    /* under the lock, briefly */
    size_t free_bytes() const noexcept;      /* whole free pages */
    size_t room() const noexcept;            /* items that still fit */
    bool room_for(size_t n) const noexcept { return room() >= n; }

    /* node-wide counters, no lock */
    void count(Counter c, uint64_t n = 1) noexcept;
    void in_flight(int64_t delta) noexcept;

    Stats stats() const noexcept;

private:
    ngx_slab_pool_t             *shpool_ = nullptr;
    Shared                      *sh_ = nullptr;
    WorkerSlot                  *slot_ = nullptr;
    std::vector<unsigned char>   scratch_;    /* pop() copies out to it */
};

} // namespace webpush::queue
