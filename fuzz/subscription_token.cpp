// attributes.token of a subscription (webpush_subscription_token_secret),
// with the group it claims to be for: "token\nname[\nidentifier]" (no
// second newline: a null identifier; the identifier may hold newlines).
// The token is what any anonymous client sends.

#include <string>

#include "api/subscription_access.hpp"
#include "api/subscription_token.hpp"
#include "fuzz_common.hpp"

using namespace webpush::api;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";

bool b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);

    std::string_view token = in.substr(0, in.find('\n'));
    std::string_view rest = token.size() < in.size()
                                ? in.substr(token.size() + 1) : "";
    std::string_view name = rest.substr(0, rest.find('\n'));
    std::optional<std::string_view> id;
    if (name.size() < rest.size()) {
        id = rest.substr(name.size() + 1);
    }

    std::optional<ParsedToken> p = parse_subscription_token(token);
    if (p) {
        FUZZ_CHECK(!p->expiry_text.empty()
                       && p->expiry_text.size() <= kTokenMaxExpiryDigits
                       && p->expiry_text[0] != '0',
                   "expiry digits");
        FUZZ_CHECK(std::to_string(p->expiry) == p->expiry_text,
                   "expiry value is its text");
        FUZZ_CHECK(p->mac.size() == kTokenMacLength, "mac length");
        for (char c : p->mac) {
            FUZZ_CHECK(b64url(c), "mac alphabet");
        }
        FUZZ_CHECK(std::string(p->expiry_text) + "." + std::string(p->mac)
                       == token,
                   "the token is exactly its two parts");
    }

    for (std::int64_t now : {std::int64_t(0), std::int64_t(1700000000),
                             std::int64_t(999999999999)}) {
        TokenStatus s = check_subscription_token(kSecret, token, name, id,
                                                 now);
        if (!p) {
            FUZZ_CHECK(s == TokenStatus::Malformed, "unparsable: malformed");
        }
        if (s == TokenStatus::Valid || s == TokenStatus::Expired) {
            // only a token minted with the secret for this group gets here
            FUZZ_CHECK(mint_subscription_token(kSecret, name, id,
                                               p->expiry) == token,
                       "a genuine token is the minted one");
            FUZZ_CHECK((s == TokenStatus::Valid) == (now < p->expiry),
                       "valid exactly before the expiry");
        }

        SubscriptionAccess rules;
        rules.secret = kSecret;
        AccessDecision d = decide_subscription_access(rules, name, id,
                                                      std::nullopt, token,
                                                      now);
        FUZZ_CHECK(d.allowed == (s == TokenStatus::Valid),
                   "token mode allows exactly valid tokens");
        FUZZ_CHECK(!access_refusal_text(d).empty(), "a reason");
    }

    // what the application mints for this group verifies, and nothing
    // else does: one character changed is refused
    std::string minted = mint_subscription_token(kSecret, name, id,
                                                 1700000000);
    bool newline = name.find('\n') != std::string_view::npos
                   || (id && id->find('\n') != std::string_view::npos);
    FUZZ_CHECK(minted.empty() == newline, "mint refuses newlines only");
    if (!minted.empty()) {
        FUZZ_CHECK(check_subscription_token(kSecret, minted, name, id,
                                            1699999999) == TokenStatus::Valid,
                   "minted token verifies");
        std::string forged = minted;
        forged[size % forged.size()] ^= 1;
        FUZZ_CHECK(check_subscription_token(kSecret, forged, name, id,
                                            1699999999) != TokenStatus::Valid,
                   "a changed token does not verify");
    }

    return 0;
}
