// Who may subscribe to which group: the decision behind
// webpush_public_groups, webpush_subscription_identity and
// webpush_subscription_token_secret, as a pure function of the request
// and the configuration (the nginx side, api/ngx_webpush_access.cpp, only
// fetches the variable and the clock).
//
// A location with none of the three is open: any group, any identifier
// (back-office clients behind nginx's own access control). Otherwise a
// subscription is allowed when any configured mode allows it:
//   public group  group.name is listed; any identifier, null included;
//   identity      group.identifier equals the variable's value, which
//                 must be non-empty (a null identifier never matches);
//   token         attributes.token is valid for group.name and
//                 group.identifier (api/subscription_token.hpp).
// Everything else is refused (403 / 5010) before anything is stored.

#ifndef WEBPUSH_API_SUBSCRIPTION_ACCESS_HPP
#define WEBPUSH_API_SUBSCRIPTION_ACCESS_HPP

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/subscription_token.hpp"

namespace webpush::api {

struct SubscriptionAccess {
    std::vector<std::string> public_groups;  // webpush_public_groups
    bool identity = false;   // webpush_subscription_identity is set
    // webpush_subscription_token_secret; empty: no token mode. Borrowed:
    // the configuration that owns this object owns the secret too.
    std::string_view secret;

    bool open() const noexcept
    {
        return public_groups.empty() && !identity && secret.empty();
    }
};

enum class IdentityStatus {
    NotConfigured,
    Match,
    Empty,      // the variable is not found or empty
    Mismatch,   // ... or differs from group.identifier (or that is null)
};

struct AccessDecision {
    bool allowed = false;
    bool public_groups = false;   // webpush_public_groups is set
    bool public_group = false;    // ... and lists group.name
    IdentityStatus identity = IdentityStatus::NotConfigured;
    std::optional<TokenStatus> token;   // nullopt: no token mode
};

// identity: the variable's value, nullopt when it is not found. now: Unix
// time in seconds.
AccessDecision decide_subscription_access(
    const SubscriptionAccess& rules, std::string_view group_name,
    std::optional<std::string_view> group_identifier,
    std::optional<std::string_view> identity,
    std::optional<std::string_view> token, std::int64_t now) noexcept;

// "not a public group; identity mismatch; expired token": why a refused
// subscription was refused, for the error log. Names no value: neither the
// identity, the group nor the token.
std::string access_refusal_text(const AccessDecision& d);

}  // namespace webpush::api

#endif
