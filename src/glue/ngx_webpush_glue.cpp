/*
 * nginx glue; see the header.
 */

#include "glue/ngx_webpush_glue.hpp"

#include <cstdio>


namespace webpush::glue {

void
log_exception(ngx_log_t *log, const char *where) noexcept
{
    try {
        throw;

    } catch (const std::bad_alloc &) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "webpush: %s: out of memory",
                      where);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, log, 0, "webpush: %s: %s", where,
                      e.what());

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "webpush: %s: unknown exception", where);
    }
}


/* Event ------------------------------------------------------------------ */

Event::Event(ngx_log_t *log, const char *name, Handler handler,
    bool cancelable)
    : name_(name), handler_(std::move(handler))
{
    ngx_memzero(&fake_, sizeof(ngx_connection_t));
    fake_.fd = static_cast<ngx_socket_t>(-1);
    fake_.data = this;

    ngx_memzero(&ev_, sizeof(ngx_event_t));
    ev_.data = &fake_;
    ev_.handler = on_event;
    ev_.log = log;
    ev_.cancelable = cancelable ? 1 : 0;
}


Event::~Event()
{
    cancel();
}


void
Event::arm(ngx_msec_t ms) noexcept
{
    /* ngx_add_timer() keeps a running timer less than 300 ms off */
    if (ev_.timer_set) {
        ngx_del_timer(&ev_);
    }

    ngx_add_timer(&ev_, ms);
}


void
Event::arm_before(ngx_msec_t ms) noexcept
{
    if (ev_.timer_set) {
        ngx_msec_int_t left = static_cast<ngx_msec_int_t>(
                                  ev_.timer.key - ngx_current_msec);

        if (left <= static_cast<ngx_msec_int_t>(ms)) {
            return;
        }
    }

    arm(ms);
}


void
Event::post() noexcept
{
    if (!ev_.posted) {
        ngx_post_event(&ev_, &ngx_posted_events);
    }
}


void
Event::post_next() noexcept
{
    if (!ev_.posted) {
        ngx_post_event(&ev_, &ngx_posted_next_events);
    }
}


void
Event::cancel() noexcept
{
    if (ev_.timer_set) {
        ngx_del_timer(&ev_);
    }

    if (ev_.posted) {
        ngx_delete_posted_event(&ev_);
    }
}


void
Event::on_event(ngx_event_t *ev) noexcept
{
    auto *self = static_cast<Event *>(
                     static_cast<ngx_connection_t *>(ev->data)->data);

    /* the handler may re-arm or destroy its owner, this included */
    barrier(ev->log, self->name_, [self]() { self->handler_(); });
}


/* RequestHold ------------------------------------------------------------ */

std::shared_ptr<RequestHold>
RequestHold::take(ngx_http_request_t *r)
{
    std::shared_ptr<RequestHold> hold(new RequestHold());

    ngx_http_cleanup_t *cln = ngx_http_cleanup_add(r, 0);
    if (cln == nullptr) {
        throw std::bad_alloc();
    }

    /* nothing below throws */

    cln->handler = on_terminate;
    cln->data = hold.get();

    hold->r_ = r;
    hold->cleanup_ = cln;

    r->main->count++;

    /*
     * Notices a client that goes away while the request waits (otherwise
     * only the reply's write would); ngx_http_finalize_request() puts
     * back what it needs.
     */
    if (r == r->main) {
        r->read_event_handler = ngx_http_test_reading;
    }

    return hold;
}


RequestHold::~RequestHold()
{
    /*
     * Dropped without finish() (process exit): the request stays held,
     * but its cleanup must not point here any more.
     */
    if (r_ != nullptr) {
        cleanup_->handler = nullptr;
    }
}


void
RequestHold::on_terminate(void *data) noexcept
{
    auto *hold = static_cast<RequestHold *>(data);

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, hold->r_->connection->log, 0,
                   "webpush: request terminated while it waited");

    /* the request's memory goes away: the completion must not touch it */
    hold->r_ = nullptr;
    hold->cleanup_ = nullptr;
}


/* the request, no longer held by this: nullptr when it is gone already */
ngx_http_request_t *
RequestHold::detach() noexcept
{
    ngx_http_request_t *r = r_;

    if (r == nullptr) {
        return nullptr;
    }

    cleanup_->handler = nullptr;
    r_ = nullptr;
    cleanup_ = nullptr;

    if (r == r->main) {
        r->read_event_handler = ngx_http_block_reading;
    }

    return r;
}


void
RequestHold::finish(ngx_int_t rc) noexcept
{
    ngx_http_request_t *r = detach();

    if (r == nullptr) {
        return;
    }

    ngx_connection_t *c = r->connection;

    ngx_http_finalize_request(r, rc);
    ngx_http_run_posted_requests(c);
}


void
RequestHold::release() noexcept
{
    ngx_http_request_t *r = detach();

    if (r != nullptr) {
        r->main->count--;
    }
}


/* configuration ---------------------------------------------------------- */

void
warn_if_others_can_read(ngx_conf_t *cf, const ngx_str_t *directive,
    const ngx_str_t *file) noexcept
{
    ngx_file_info_t fi;

    if (ngx_file_info(file->data, &fi) == NGX_FILE_ERROR
        || (ngx_file_access(&fi) & 0077) == 0)
    {
        return;
    }

    /* nginx's formats have no octal */
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%03o",
                  static_cast<unsigned>(ngx_file_access(&fi)));

    ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                       "\"%V\" \"%V\" is accessible by other users "
                       "(mode %s), it should be 0600 or 0400",
                       directive, file, mode);
}


/* resolver --------------------------------------------------------------- */

namespace {

ngx_http_core_loc_conf_t *
http_core_loc_conf(void ****conf_ctx) noexcept
{
    auto *ctx = reinterpret_cast<ngx_http_conf_ctx_t *>(
                    conf_ctx[ngx_http_module.index]);

    if (ctx == nullptr) {
        return nullptr;
    }

    return static_cast<ngx_http_core_loc_conf_t *>(
                    ctx->loc_conf[ngx_http_core_module.ctx_index]);
}

} // namespace


ngx_resolver_t *
http_resolver(ngx_cycle_t *cycle, ngx_msec_t *timeout) noexcept
{
    ngx_http_core_loc_conf_t *clcf = http_core_loc_conf(cycle->conf_ctx);

    if (clcf == nullptr || clcf->resolver == nullptr
        || reinterpret_cast<void *>(clcf->resolver) == NGX_CONF_UNSET_PTR)
    {
        return nullptr;
    }

    if (clcf->resolver_timeout != NGX_CONF_UNSET_MSEC) {
        *timeout = clcf->resolver_timeout;
    }

    return clcf->resolver;
}


bool
has_http_resolver(ngx_conf_t *cf) noexcept
{
    /* in postconfiguration: cf->ctx is the http{} block's */
    auto *clcf = static_cast<ngx_http_core_loc_conf_t *>(
                     ngx_http_conf_get_module_loc_conf(cf,
                                                       ngx_http_core_module));

    if (clcf == nullptr || clcf->resolver == nullptr
        || reinterpret_cast<void *>(clcf->resolver) == NGX_CONF_UNSET_PTR)
    {
        return false;
    }

    /* merging gives http{} a resolver without servers when none is set */
    return clcf->resolver->connections.nelts != 0;
}

} // namespace webpush::glue
