/*
 * C++ objects built from the configuration: they live in cf->pool (a pool
 * cleanup runs their destructors) and are read-only afterwards.
 */

#pragma once

#include "ngx_webpush_conf.hpp"

#include "api/requests.hpp"

#include <optional>


namespace webpush {

struct ConfObjects {
    std::optional<push::PushHosts>  push_hosts;   /* webpush_push_hosts */
    api::SubscriptionRules         subscription_rules;
    api::NotificationRules         notification_rules;
};


/* mcf->objects, created on first use (throws std::bad_alloc) */
ConfObjects *conf_objects(ngx_conf_t *cf, MainConf *mcf);

} // namespace webpush
