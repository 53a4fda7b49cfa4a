/*
 * Who may subscribe: the directives webpush_subscription_identity,
 * webpush_subscription_token_secret and webpush_public_groups, their
 * merge, and the check the subscription handler runs before any SQL.
 * The decision itself is pure: api/subscription_access.hpp.
 */

#pragma once

#include "ngx_webpush_conf.hpp"


namespace webpush {

namespace api {
struct SubscriptionRequest;
}


char *set_subscription_identity(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf) noexcept;
char *set_subscription_token_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf) noexcept;

/* inherits the three settings; builds conf->access where it restricts */
char *merge_subscription_access(ngx_conf_t *cf, LocConf *prev,
    LocConf *conf) noexcept;

/* whether the location lets r subscribe to s's group; logs why not */
bool subscription_allowed(ngx_http_request_t *r,
    const api::SubscriptionRequest &s);

} // namespace webpush
