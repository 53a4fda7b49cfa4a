/*
 * The JSON:API resources: push-notification-providers,
 * push-notification-subscriptions and push-notifications.
 */

#pragma once

#include "ngx.hpp"


namespace webpush {

ngx_int_t providers_handler(ngx_http_request_t *r);
ngx_int_t subscriptions_handler(ngx_http_request_t *r);
ngx_int_t notifications_handler(ngx_http_request_t *r);

/* webpush_events: api/ngx_webpush_events.cpp */
ngx_int_t events_handler(ngx_http_request_t *r);

} // namespace webpush
