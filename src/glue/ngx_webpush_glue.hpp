/*
 * The one layer between the module's C++ components and nginx's C event
 * loop; every component uses these instead of a copy of its own.
 *
 *   barrier()      the exception barrier: runs a callable, catches
 *                  everything (catch (...)), logs it; for every place
 *                  nginx calls into C++.
 *   Event          an ngx_event_t owned by a C++ object: a timer (arm,
 *                  cancel) or a deferred call (post: runs from nginx's
 *                  posted events, after the current handler returned).
 *                  Destroying it removes it from the timer tree and the
 *                  posted queue, so a handler never runs for a dead owner.
 *   pool_new<T>()  a C++ object owned by an nginx pool: constructed now,
 *                  destroyed by the pool's cleanup (configuration objects
 *                  live as long as their cycle's pool).
 *   RequestHold    keeps a request open while an asynchronous operation
 *                  runs on its behalf (r->main->count), and lets the
 *                  operation's completion find out whether nginx
 *                  terminated the request meanwhile (client gone,
 *                  worker_shutdown_timeout): a request cleanup, the way
 *                  nginx's upstream module keeps its own, detaches it.
 *   http_resolver() the http{} block's resolver, or nullptr.
 */

#pragma once

#include "ngx.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <new>
#include <utility>


namespace webpush::glue {

void log_exception(ngx_log_t *log, const char *where) noexcept;


/* runs f(); an exception is logged at "alert" with where, not thrown */
template <typename F>
void
barrier(ngx_log_t *log, const char *where, F &&f) noexcept
{
    try {
        f();

    } catch (...) {
        log_exception(log, where);
    }
}


/* the same for a result: fallback when f() throws */
template <typename R, typename F>
R
barrier(ngx_log_t *log, const char *where, R fallback, F &&f) noexcept
{
    try {
        return f();

    } catch (...) {
        log_exception(log, where);
        return fallback;
    }
}


class Event {
public:
    using Handler = std::function<void()>;

    /*
     * cancelable: a graceful shutdown (nginx -s quit, reload) does not
     * wait for this timer; one that is not keeps the old worker alive
     * until it fired.
     */
    Event(ngx_log_t *log, const char *name, Handler handler,
          bool cancelable = true);
    ~Event();

    Event(const Event &) = delete;
    Event &operator=(const Event &) = delete;

    /* (re)starts the timer */
    void arm(ngx_msec_t ms) noexcept;

    /* starts the timer unless it is running and fires sooner */
    void arm_before(ngx_msec_t ms) noexcept;

    bool armed() const noexcept { return ev_.timer_set; }

    /* whether a graceful shutdown waits for it, from now on */
    void set_cancelable(bool on) noexcept { ev_.cancelable = on ? 1 : 0; }

    /* runs the handler from ngx_posted_events (once, however often) */
    void post() noexcept;

    /* ... or in the next turn of the event loop, after new I/O events */
    void post_next() noexcept;

    bool posted() const noexcept { return ev_.posted; }

    /* stops the timer and takes it off the posted queues */
    void cancel() noexcept;

private:
    static void on_event(ngx_event_t *ev) noexcept;

    ngx_event_t       ev_;
    /* nginx's debug log takes ev->data for a connection and prints its fd */
    ngx_connection_t  fake_;
    const char       *name_;
    Handler           handler_;
};


template <typename T, typename... Args>
T *
pool_new(ngx_pool_t *pool, Args &&...args)
{
    ngx_pool_cleanup_t *cln = ngx_pool_cleanup_add(pool, 0);

    if (cln == nullptr) {
        throw std::bad_alloc();
    }

    T *object = new T(std::forward<Args>(args)...);

    cln->data = object;
    cln->handler = [](void *data) noexcept {
        delete static_cast<T *>(data);
    };

    return object;
}


class RequestHold {
public:
    /*
     * Holds r (r->main->count++) and watches its client connection for a
     * premature close (ngx_http_test_reading), as upstream does while it
     * waits.  Throws std::bad_alloc before it touches r.
     */
    static std::shared_ptr<RequestHold> take(ngx_http_request_t *r);

    ~RequestHold();

    RequestHold(const RequestHold &) = delete;
    RequestHold &operator=(const RequestHold &) = delete;

    /* nullptr once nginx terminated the request */
    ngx_http_request_t *request() const noexcept { return r_; }

    /*
     * Finalizes the request with rc (what a content handler returns) and
     * runs the connection's posted requests; nothing when it is gone.
     */
    void finish(ngx_int_t rc) noexcept;

    /* gives the request back untouched: the operation never started */
    void release() noexcept;

private:
    RequestHold() = default;

    static void on_terminate(void *data) noexcept;
    ngx_http_request_t *detach() noexcept;

    ngx_http_request_t  *r_ = nullptr;
    ngx_http_cleanup_t  *cleanup_ = nullptr;
};


/*
 * At configuration time: a [warn] naming the directive when others than
 * its owner may read the file (a key or secret others can read is one
 * they can use).
 */
void warn_if_others_can_read(ngx_conf_t *cf, const ngx_str_t *directive,
    const ngx_str_t *file) noexcept;

/* the http{} block's resolver (nullptr if none), and its timeout */
ngx_resolver_t *http_resolver(ngx_cycle_t *cycle, ngx_msec_t *timeout)
    noexcept;

/* whether "resolver" is configured in http{} (checked after merging) */
bool has_http_resolver(ngx_conf_t *cf) noexcept;

} // namespace webpush::glue
