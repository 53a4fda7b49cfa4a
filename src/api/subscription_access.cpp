#include "api/subscription_access.hpp"

#include <algorithm>

namespace webpush::api {

AccessDecision decide_subscription_access(
    const SubscriptionAccess& rules, std::string_view group_name,
    std::optional<std::string_view> group_identifier,
    std::optional<std::string_view> identity,
    std::optional<std::string_view> token, std::int64_t now) noexcept
{
    AccessDecision d;

    if (rules.open()) {
        d.allowed = true;
        return d;
    }

    d.public_groups = !rules.public_groups.empty();
    d.public_group = std::find(rules.public_groups.begin(),
                               rules.public_groups.end(), group_name)
                     != rules.public_groups.end();

    if (rules.identity) {
        if (!identity || identity->empty()) {
            // an empty value would otherwise match an empty identifier:
            // an anonymous request has no identity at all
            d.identity = IdentityStatus::Empty;
        } else if (group_identifier && *group_identifier == *identity) {
            d.identity = IdentityStatus::Match;
        } else {
            d.identity = IdentityStatus::Mismatch;
        }
    }

    if (!rules.secret.empty()) {
        d.token = check_subscription_token(rules.secret, token, group_name,
                                           group_identifier, now);
    }

    d.allowed = d.public_group || d.identity == IdentityStatus::Match
                || d.token == TokenStatus::Valid;
    return d;
}

std::string access_refusal_text(const AccessDecision& d)
{
    std::string out;
    auto add = [&out](const char* s) {
        if (!out.empty()) {
            out += "; ";
        }
        out += s;
    };

    if (d.allowed) {
        return "allowed";
    }

    if (d.public_groups) {
        add("not a public group");
    }

    switch (d.identity) {
    case IdentityStatus::NotConfigured:
    case IdentityStatus::Match:
        break;
    case IdentityStatus::Empty:
        add("no identity");
        break;
    case IdentityStatus::Mismatch:
        add("identifier is not the identity");
        break;
    }

    if (d.token) {
        add(token_status_text(*d.token));
    }

    return out;
}

}  // namespace webpush::api
