/*
 * Configuration of ngx_http_webpush_module, shared by the nginx-facing
 * components (handlers, database pool, sender).
 */

#pragma once

#include "ngx.hpp"

extern "C" {
extern ngx_module_t  ngx_http_webpush_module;
}


#define NGX_HTTP_WEBPUSH_VERSION  "0.1.0"


namespace webpush {

namespace crypto {
class VapidKey;
class EventTokenKey;
}

namespace api {
struct SubscriptionAccess;
struct SubscriptionRules;
struct NotificationRules;
}


/* the C++ side of the configuration, owned by cf->pool */
struct ConfObjects;


/*
 * http-level settings.  Standard layout: nginx's ngx_conf_set_*_slot
 * functions write the plain fields through offsetof().
 */
struct MainConf {
    ngx_str_t            vapid_key_file;
    ngx_str_t            vapid_subject;
    ngx_str_t            postgres;
    ngx_uint_t           postgres_pool;
    ngx_msec_t           postgres_timeout;
    size_t               queue_size;
    ngx_array_t         *push_hosts;           /* of ngx_str_t */
    ngx_str_t            ssl_trusted_certificate;
    ngx_flag_t           ssl_verify;
    ngx_uint_t           concurrency;
    ngx_uint_t           keepalive;
    ngx_flag_t           http2;                /* webpush_http2 */
    ngx_msec_t           timeout;
    time_t               message_ttl;
    time_t               subscription_ttl;
    ngx_uint_t           max_attempts;
    ngx_array_t         *groups;               /* of ngx_str_t */
    ngx_array_t         *locales;              /* of ngx_str_t */
    ngx_flag_t           sender;               /* webpush_sender */
    ngx_flag_t           delivery_log;         /* webpush_delivery_log */
    time_t               lease;                /* webpush_lease */

    /* derived at configuration time */
    ConfObjects         *objects;              /* owned by cf->pool */
    ngx_ssl_t           *ssl;                  /* push-service TLS client */
    ngx_shm_zone_t      *queue_zone;           /* the send queue */
    crypto::VapidKey    *vapid_key;            /* owned by cf->pool */
    crypto::EventTokenKey  *event_key;         /* webpush_events: signs
                                                  and checks engagement
                                                  tokens; cf->pool */
    ngx_str_t            vapid_public_key;     /* base64url, 65-byte point */
    ngx_str_t            postgres_host_name;   /* first name to resolve */
    ngx_uint_t           handlers;             /* locations using us */
    ngx_uint_t           database_handlers;    /* ... that need PostgreSQL */
    ngx_uint_t           events_handlers;      /* webpush_events locations:
                                                  deliveries carry tokens */
};


enum class Handler : ngx_uint_t {
    none = 0,
    vapid_public_key,
    status,
    providers,
    subscriptions,
    notifications,
    events,
};


struct LocConf {
    ngx_uint_t           handler;              /* Handler */

    /* who may subscribe (api/ngx_webpush_access.hpp); inherited */
    ngx_int_t            identity_index;       /* a variable, or UNSET */
    ngx_str_t            token_secret;         /* data NULL: unset */
    ngx_array_t         *public_groups;        /* of ngx_str_t, or NULL */

    /* merged, in subscription locations that restrict; NULL: open */
    api::SubscriptionAccess  *access;          /* owned by cf->pool */
};


inline MainConf *
main_conf(ngx_http_request_t *r)
{
    return static_cast<MainConf *>(
        ngx_http_get_module_main_conf(r, ngx_http_webpush_module));
}


inline MainConf *
main_conf(ngx_cycle_t *cycle)
{
    return static_cast<MainConf *>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_webpush_module));
}

} // namespace webpush
