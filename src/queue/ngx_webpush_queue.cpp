/*
 * The node-local send queue in shared memory; see ngx_webpush_queue.hpp.
 *
 * Zone layout (one ngx_slab pool):
 *
 *   ngx_slab_pool_t           nginx's, at the start of the zone
 *   Shared                    one ngx_slab_calloc(); shpool->data
 *   Node + encoded item       one ngx_slab_alloc_locked() per item, linked
 *                             oldest first into Shared::items
 *
 * Only plain structs live there: no std:: types, no pointers into process
 * memory (the ngx_queue_t links point into the zone itself, which is
 * mapped at the same address in the master and every worker, and stays
 * there across a reload that reuses it).
 */

#include "ngx_webpush_conf.hpp"

#include "queue/ngx_webpush_queue.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <type_traits>


namespace webpush::queue {

/* how many processes can hold an in_flight slot at once */
constexpr ngx_uint_t  worker_slots = 256;

struct WorkerSlot {
    ngx_atomic_t         pid;            /* 0: free */
    ngx_atomic_t         in_flight;      /* signed, two's complement */
};


struct Shared {
    uint32_t             magic;
    uint32_t             layout;

    ngx_queue_t          items;          /* of Node, oldest first */

    /* written under the lock, read without it */
    ngx_atomic_t         depth;
    ngx_atomic_t         high_water;
    ngx_atomic_t         used;           /* slab footprint of the items */
    ngx_atomic_t         avg_item;       /* moving average footprint */

    /* set once when the zone is created */
    ngx_atomic_t         capacity;

    /* ngx_atomic_fetch_add() only */
    ngx_atomic_t         generation;
    ngx_atomic_t         counters[counter_count];
    ngx_atomic_t         in_flight_unslotted;

    WorkerSlot           slots[worker_slots];
};


namespace {

struct Node {
    ngx_queue_t          link;
    uint32_t             len;            /* of the encoded item */
    uint32_t             footprint;      /* what the slab took for it */

    /* the encoded item follows (queue/item.hpp) */

    u_char *data() noexcept
    {
        return reinterpret_cast<u_char *>(this + 1);
    }
};


static_assert(std::is_standard_layout_v<WorkerSlot>);
static_assert(std::is_trivially_copyable_v<WorkerSlot>);
static_assert(std::is_standard_layout_v<Shared>);
static_assert(std::is_trivially_copyable_v<Shared>);
static_assert(std::is_standard_layout_v<Node>);
static_assert(std::is_trivially_copyable_v<Node>);
static_assert(sizeof(Node) % 8 == 0);


constexpr uint32_t  shared_magic = 0x57505131;           /* "WPQ1" */

/* a zone of another layout is never reused (nor misread) */
constexpr uint32_t  shared_layout = sizeof(Shared) ^ (sizeof(Node) << 16)
                                    ^ (sizeof(ItemHeader) << 24);

/* assumed footprint of an item before the first push */
constexpr size_t  default_item_footprint = 1024;

/* pop() copies items out in rounds of at most this many bytes */
constexpr size_t  scratch_size = 64 * 1024;

static_assert(scratch_size >= sizeof(uint32_t) + max_encoded_size);


ngx_str_t  zone_name = ngx_string("webpush_queue");


ngx_int_t init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept;


class ShmLock {
public:
    explicit ShmLock(ngx_slab_pool_t *shpool) noexcept
        : shpool_(shpool)
    {
        ngx_shmtx_lock(&shpool_->mutex);
    }

    ~ShmLock()
    {
        ngx_shmtx_unlock(&shpool_->mutex);
    }

    ShmLock(const ShmLock &) = delete;
    ShmLock &operator=(const ShmLock &) = delete;

private:
    ngx_slab_pool_t  *shpool_;
};


ngx_int_t
init_zone(ngx_shm_zone_t *shm_zone, void *data) noexcept
{
    auto *shpool = reinterpret_cast<ngx_slab_pool_t *>(shm_zone->shm.addr);

    if (data != nullptr) {
        /* reload with the same size: keep the items and the counters */

        auto *old = static_cast<Shared *>(data);

        if (old->magic != shared_magic || old->layout != shared_layout) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "webpush: shared memory zone \"%V\" has another "
                          "layout, restart nginx or change "
                          "\"webpush_queue_size\"", &shm_zone->shm.name);
            return NGX_ERROR;
        }

        shm_zone->data = old;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        /* Windows: attached to the master's zone */
        shm_zone->data = shpool->data;
        return NGX_OK;
    }

    auto *sh = static_cast<Shared *>(ngx_slab_calloc(shpool, sizeof(Shared)));
    if (sh == nullptr) {
        return NGX_ERROR;
    }

    sh->magic = shared_magic;
    sh->layout = shared_layout;
    ngx_queue_init(&sh->items);

    size_t len = sizeof(" in webpush queue zone \"\"") + shm_zone->shm.name.len;

    shpool->log_ctx = static_cast<u_char *>(ngx_slab_alloc(shpool, len));
    if (shpool->log_ctx == nullptr) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in webpush queue zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full queue is back-pressure, not an error */
    shpool->log_nomem = 0;

    sh->capacity = shpool->pfree * ngx_pagesize;

    shpool->data = sh;
    shm_zone->data = sh;

    return NGX_OK;
}


/* a pid whose process is gone (a worker killed without exit process) */
bool
process_gone(ngx_atomic_uint_t pid) noexcept
{
    return kill(static_cast<ngx_pid_t>(pid), 0) == -1
           && ngx_errno == NGX_ESRCH;
}

} // namespace


ngx_shm_zone_t *
add_queue_zone(ngx_conf_t *cf, size_t size) noexcept
{
    if (size < 8 * ngx_pagesize) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webpush_queue_size\" of %uz bytes is too "
                           "small", size);
        return nullptr;
    }

    ngx_shm_zone_t *shm_zone = ngx_shared_memory_add(cf, &zone_name, size,
                                                     &ngx_http_webpush_module);
    if (shm_zone == nullptr) {
        return nullptr;
    }

    shm_zone->init = init_zone;

    return shm_zone;
}


ngx_shm_zone_t *
find_queue_zone(ngx_cycle_t *cycle) noexcept
{
    ngx_list_part_t  *part = &cycle->shared_memory.part;
    auto             *shm_zone = static_cast<ngx_shm_zone_t *>(part->elts);

    for (ngx_uint_t i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == nullptr) {
                return nullptr;
            }

            part = part->next;
            shm_zone = static_cast<ngx_shm_zone_t *>(part->elts);
            i = 0;
        }

        if (shm_zone[i].tag == &ngx_http_webpush_module
            && shm_zone[i].init == init_zone)
        {
            return &shm_zone[i];
        }
    }
}


Queue::Queue(ngx_shm_zone_t *zone) noexcept
{
    if (zone == nullptr || zone->data == nullptr) {
        return;
    }

    try {
        scratch_.resize(scratch_size);

    } catch (const std::bad_alloc &) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "webpush: no memory for the queue's buffer");
        return;
    }

    shpool_ = reinterpret_cast<ngx_slab_pool_t *>(zone->shm.addr);
    sh_ = static_cast<Shared *>(zone->data);

    /*
     * A slot for this process' in_flight: a free one, or one left by a
     * process that is gone.  Taken with compare-and-set, not the mutex:
     * checking a pid is a system call.
     */

    auto  self = static_cast<ngx_atomic_uint_t>(ngx_pid);

    for (ngx_uint_t i = 0; i < worker_slots; i++) {
        WorkerSlot *s = &sh_->slots[i];
        ngx_atomic_uint_t pid = s->pid;

        if (pid == self
            || ((pid == 0 || process_gone(pid))
                && ngx_atomic_cmp_set(&s->pid, pid, self)))
        {
            s->in_flight = 0;
            slot_ = s;
            break;
        }
    }
}


Queue::~Queue()
{
    if (slot_ == nullptr) {
        return;
    }

    slot_->in_flight = 0;
    (void) ngx_atomic_cmp_set(&slot_->pid,
                              static_cast<ngx_atomic_uint_t>(ngx_pid), 0);
}


bool
Queue::ok() const noexcept
{
    return sh_ != nullptr;
}


Push
Queue::push(const Delivery &d, const char **reason) noexcept
{
    if (sh_ == nullptr) {
        if (reason != nullptr) {
            *reason = "queue not attached";
        }

        return Push::full;
    }

    const char *bad = check(d);

    if (bad != nullptr) {
        count(Counter::rejected);

        if (reason != nullptr) {
            *reason = bad;
        }

        return Push::rejected;
    }

    size_t len = encoded_size(d);
    size_t size = sizeof(Node) + len;
    size_t footprint = slab_footprint(size, ngx_pagesize);

    Node  *node;

    {
        ShmLock lock(shpool_);

        node = static_cast<Node *>(ngx_slab_alloc_locked(shpool_, size));

        if (node != nullptr) {
            node->len = static_cast<uint32_t>(len);
            node->footprint = static_cast<uint32_t>(footprint);

            /* cannot fail: checked above, the node is large enough */
            (void) encode(d, node->data(), len);

            ngx_queue_insert_tail(&sh_->items, &node->link);

            ngx_atomic_uint_t depth = sh_->depth + 1;

            sh_->depth = depth;
            sh_->used = sh_->used + footprint;
            sh_->avg_item = next_average(sh_->avg_item, footprint);

            if (depth > sh_->high_water) {
                sh_->high_water = depth;
            }
        }
    }

    if (node == nullptr) {
        count(Counter::full);

        if (reason != nullptr) {
            *reason = "queue full";
        }

        return Push::full;
    }

    (void) ngx_atomic_fetch_add(&sh_->generation, 1);
    count(Counter::pushed);

    return Push::queued;
}


size_t
Queue::pop(std::vector<Delivery> &out, size_t max) noexcept
{
    if (sh_ == nullptr || max == 0) {
        return 0;
    }

    size_t  depth = sh_->depth;
    size_t  taken = 0;

    if (depth == 0) {
        return 0;
    }

    try {
        out.reserve(out.size() + std::min(max, depth));

    } catch (const std::bad_alloc &) {
        return 0;
    }

    while (taken < max) {
        size_t  n = 0;
        size_t  filled = 0;
        size_t  oversized = 0;
        bool    more;

        {
            ShmLock lock(shpool_);

            while (taken + n < max && !ngx_queue_empty(&sh_->items)) {
                ngx_queue_t *q = ngx_queue_head(&sh_->items);
                Node *node = ngx_queue_data(q, Node, link);

                uint32_t len = node->len;

                if (filled + sizeof(len) + len > scratch_.size()) {
                    if (filled != 0) {
                        break;
                    }

                    /* larger than any item: never written by push() */

                    ngx_queue_remove(q);

                    sh_->depth = sh_->depth - 1;
                    sh_->used = sh_->used - node->footprint;

                    ngx_slab_free_locked(shpool_, node);

                    oversized++;
                    continue;
                }

                ngx_memcpy(&scratch_[filled], &len, sizeof(len));
                ngx_memcpy(&scratch_[filled + sizeof(len)], node->data(),
                           len);
                filled += sizeof(len) + len;

                ngx_queue_remove(q);

                sh_->depth = sh_->depth - 1;
                sh_->used = sh_->used - node->footprint;

                ngx_slab_free_locked(shpool_, node);

                n++;
            }

            more = !ngx_queue_empty(&sh_->items);
        }

        if (oversized != 0) {
            count(Counter::corrupt, oversized);

            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "webpush: %uz oversized items in the queue, "
                          "dropped", oversized);
        }

        if (n == 0) {
            if (oversized != 0 && more) {
                continue;
            }

            break;
        }

        count(Counter::popped, n);

        /* the std::strings are made outside the lock */

        size_t  pos = 0;
        bool    pending = false;

        try {
            while (pos < filled) {
                uint32_t len;

                ngx_memcpy(&len, &scratch_[pos], sizeof(len));

                out.emplace_back();
                pending = true;

                if (decode(&scratch_[pos + sizeof(len)], len, out.back())) {
                    taken++;

                } else {
                    out.pop_back();
                    count(Counter::corrupt);

                    ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                                  "webpush: undecodable item of %uD bytes "
                                  "in the queue, dropped", len);
                }

                pending = false;
                pos += sizeof(len) + len;
            }

        } catch (const std::bad_alloc &) {
            /*
             * Out of process memory: the items not yet decoded are gone
             * from the queue; their database leases bring them back.
             */

            if (pending) {
                out.pop_back();
            }

            while (pos < filled) {
                uint32_t    len;
                ItemHeader  h;

                ngx_memcpy(&len, &scratch_[pos], sizeof(len));

                if (read_header(&scratch_[pos + sizeof(len)], len, h)) {
                    ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                                  "webpush: no memory to take delivery "
                                  "%uL from the queue, it is sent again "
                                  "when its lease lapses", h.delivery_id);
                }

                pos += sizeof(len) + len;
            }

            return taken;
        }

        if (!more) {
            break;
        }
    }

    return taken;
}


size_t
Queue::depth() const noexcept
{
    return sh_ ? static_cast<size_t>(sh_->depth) : 0;
}


uint64_t
Queue::generation() const noexcept
{
    return sh_ ? static_cast<uint64_t>(sh_->generation) : 0;
}


size_t
Queue::capacity() const noexcept
{
    return sh_ ? static_cast<size_t>(sh_->capacity) : 0;
}


size_t
Queue::free_bytes() const noexcept
{
    if (sh_ == nullptr) {
        return 0;
    }

    ShmLock lock(shpool_);

    return shpool_->pfree * ngx_pagesize;
}


size_t
Queue::room() const noexcept
{
    if (sh_ == nullptr) {
        return 0;
    }

    size_t  free, avg;

    {
        ShmLock lock(shpool_);

        free = shpool_->pfree * ngx_pagesize;
        avg = sh_->avg_item;
    }

    return items_that_fit(free, avg ? avg : default_item_footprint);
}


void
Queue::count(Counter c, uint64_t n) noexcept
{
    if (sh_ == nullptr) {
        return;
    }

    (void) ngx_atomic_fetch_add(&sh_->counters[static_cast<size_t>(c)],
                                static_cast<ngx_atomic_uint_t>(n));
}


void
Queue::in_flight(int64_t delta) noexcept
{
    if (sh_ == nullptr) {
        return;
    }

    ngx_atomic_t *counter = slot_ ? &slot_->in_flight
                                  : &sh_->in_flight_unslotted;

    (void) ngx_atomic_fetch_add(counter,
                                static_cast<ngx_atomic_uint_t>(delta));
}


Stats
Queue::stats() const noexcept
{
    Stats  st{};

    if (sh_ == nullptr) {
        return st;
    }

    {
        ShmLock lock(shpool_);

        st.depth = sh_->depth;
        st.used_bytes = sh_->used;
        st.avg_item_bytes = sh_->avg_item;
        st.free_bytes = shpool_->pfree * ngx_pagesize;
    }

    st.high_water = sh_->high_water;
    st.capacity_bytes = sh_->capacity;
    st.generation = sh_->generation;
    st.room = items_that_fit(st.free_bytes, st.avg_item_bytes
                                            ? st.avg_item_bytes
                                            : default_item_footprint);

    for (size_t i = 0; i < counter_count; i++) {
        st.counters[i] = sh_->counters[i];
    }

    /* in flight: the live processes' slots (no lock: a snapshot) */

    st.in_flight = static_cast<int64_t>(sh_->in_flight_unslotted);

    for (ngx_uint_t i = 0; i < worker_slots; i++) {
        ngx_atomic_uint_t pid = sh_->slots[i].pid;

        if (pid == 0 || process_gone(pid)) {
            continue;
        }

        st.workers++;
        st.in_flight += static_cast<int64_t>(sh_->slots[i].in_flight);
    }

    return st;
}

} // namespace webpush::queue
