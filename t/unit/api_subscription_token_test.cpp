// Subscription tokens (webpush_subscription_token_secret). The expected
// MACs were computed with OpenSSL's command line, not with this code:
//
//   printf 'customer\n42\n1700000000' |
//     openssl dgst -sha256 -mac HMAC -binary
//       -macopt key:0123456789abcdef0123456789abcdef |
//     openssl base64 -A | tr '+/' '-_' | tr -d '='

#include <gtest/gtest.h>

#include <string>

#include "api/subscription_token.hpp"

using namespace webpush::api;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";
const std::string kOther = "another secret, also 32 bytes...";

// customer / 42 / 1700000000 with kSecret
const std::string kCustomer42 =
    "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74";
// news / (null) / 4102444800 with kSecret
const std::string kNewsNull =
    "4102444800.gMA60bFyBvcZRfG6UmOyigyzmfgY2Zg0AckuOq-ML84";
// customer / 42 / 1700000000 with kOther
const std::string kCustomer42Other =
    "1700000000.XnBdcDzXIQsU_avVIhuivFAIatE8PGPdvjIsTrQ-wns";

const std::int64_t kBefore = 1699999999;

TokenStatus check(const std::string& token, std::string_view name = "customer",
                  std::optional<std::string_view> id = "42",
                  std::int64_t now = kBefore,
                  const std::string& secret = kSecret)
{
    return check_subscription_token(secret, std::string_view(token), name, id,
                                    now);
}

}  // namespace

TEST(SubscriptionToken, MintMatchesOpensslVectors)
{
    EXPECT_EQ(mint_subscription_token(kSecret, "customer", "42", 1700000000),
              kCustomer42);
    EXPECT_EQ(mint_subscription_token(kSecret, "news", std::nullopt,
                                      4102444800LL),
              kNewsNull);
    EXPECT_EQ(mint_subscription_token(kOther, "customer", "42", 1700000000),
              kCustomer42Other);
}

TEST(SubscriptionToken, ValidBeforeExpiry)
{
    EXPECT_EQ(check(kCustomer42), TokenStatus::Valid);
    EXPECT_EQ(check(kCustomer42Other, "customer", "42", kBefore, kOther),
              TokenStatus::Valid);
}

TEST(SubscriptionToken, ExpiredAtAndAfterExpiry)
{
    EXPECT_EQ(check(kCustomer42, "customer", "42", 1700000000),
              TokenStatus::Expired);
    EXPECT_EQ(check(kCustomer42, "customer", "42", 1800000000),
              TokenStatus::Expired);
}

TEST(SubscriptionToken, OtherGroupOrSecretIsBadSignature)
{
    EXPECT_EQ(check(kCustomer42, "customer", "43"), TokenStatus::BadSignature);
    EXPECT_EQ(check(kCustomer42, "customers", "42"),
              TokenStatus::BadSignature);
    EXPECT_EQ(check(kCustomer42, "customer", std::nullopt),
              TokenStatus::BadSignature);
    EXPECT_EQ(check(kCustomer42Other), TokenStatus::BadSignature);
    // the expiry is signed: moving it is a forgery, not an extension
    EXPECT_EQ(check("1800000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74"),
              TokenStatus::BadSignature);
}

TEST(SubscriptionToken, NullAndEmptyIdentifierShareATokenByDesign)
{
    EXPECT_EQ(check(kNewsNull, "news", std::nullopt), TokenStatus::Valid);
    EXPECT_EQ(check(kNewsNull, "news", ""), TokenStatus::Valid);
    EXPECT_EQ(check(kNewsNull, "news", "1"), TokenStatus::BadSignature);
}

TEST(SubscriptionToken, MissingAndMalformed)
{
    EXPECT_EQ(check_subscription_token(kSecret, std::nullopt, "customer",
                                       "42", kBefore),
              TokenStatus::Missing);

    const char* bad[] = {
        "",
        ".",
        "1700000000",
        "1700000000.",
        ".YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        // padded, standard alphabet, one character short or long
        "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74=",
        "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF7",
        "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74A",
        "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF7+",
        // the expiry: sign, leading zero, space, too many digits, hex
        "+1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        "01700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        " 1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        "1000000000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        "0x65533f00.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
        "1700000000.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74.x",
        "1700000000..azTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74",
    };
    for (const char* t : bad) {
        EXPECT_FALSE(parse_subscription_token(t).has_value()) << t;
        EXPECT_EQ(check(t), TokenStatus::Malformed) << t;
    }

    std::string nul = kCustomer42;
    nul[3] = '\0';
    EXPECT_EQ(check(nul), TokenStatus::Malformed);
}

TEST(SubscriptionToken, ParseBorrowsBothParts)
{
    auto p = parse_subscription_token(kCustomer42);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->expiry, 1700000000);
    EXPECT_EQ(p->expiry_text, "1700000000");
    EXPECT_EQ(p->mac, "YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74");

    p = parse_subscription_token(
        "999999999999.YazTNjOQqR2XBeR4RWrjtn7f7fAQE8pFmjvZOalEF74");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->expiry, 999999999999LL);
}

TEST(SubscriptionToken, NewlineInTheGroupIsNeverValid)
{
    // "a\nb" + "c" and "a" + "b\nc" would sign the same message
    EXPECT_EQ(mint_subscription_token(kSecret, "a\nb", "c", 1700000000), "");
    EXPECT_EQ(mint_subscription_token(kSecret, "a", "b\nc", 1700000000), "");

    char mac[] = "gsQ4ImzD-KRYLQLiv6vgxW8VjMIGFwcG4rK60GjI2SE";
    std::string forged = std::string("1700000000.") + mac;
    EXPECT_EQ(check(forged, "a\nb", "c"), TokenStatus::Malformed);
    EXPECT_EQ(check(forged, "a", "b\nc"), TokenStatus::Malformed);
}

TEST(SubscriptionToken, MintRefusesExpiriesTheParserRefuses)
{
    EXPECT_EQ(mint_subscription_token(kSecret, "n", "i", 0), "");
    EXPECT_EQ(mint_subscription_token(kSecret, "n", "i", 1000000000000LL), "");

    std::string t = mint_subscription_token(kSecret, "n", "i", 1);
    EXPECT_EQ(check(t, "n", "i", 0), TokenStatus::Valid);
    EXPECT_EQ(check(t, "n", "i", 1), TokenStatus::Expired);
}

// ---- the decision over the three modes -------------------------------------

#include "api/subscription_access.hpp"

namespace {

AccessDecision decide(const SubscriptionAccess& rules, std::string_view name,
                      std::optional<std::string_view> id,
                      std::optional<std::string_view> identity,
                      std::optional<std::string_view> token = std::nullopt,
                      std::int64_t now = kBefore)
{
    return decide_subscription_access(rules, name, id, identity, token, now);
}

}  // namespace

TEST(SubscriptionAccess, NothingConfiguredIsOpen)
{
    SubscriptionAccess open;
    EXPECT_TRUE(open.open());
    EXPECT_TRUE(decide(open, "customer", "42", std::nullopt).allowed);
    EXPECT_TRUE(decide(open, "customer", std::nullopt, std::nullopt).allowed);
}

TEST(SubscriptionAccess, PublicGroupsAllowAnyIdentifierOfThoseGroupsOnly)
{
    SubscriptionAccess rules;
    rules.public_groups = {"news", "offers"};
    EXPECT_TRUE(decide(rules, "news", "anything", std::nullopt).allowed);
    EXPECT_TRUE(decide(rules, "offers", std::nullopt, std::nullopt).allowed);

    AccessDecision d = decide(rules, "customer", "42", std::nullopt);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(access_refusal_text(d), "not a public group");
}

TEST(SubscriptionAccess, IdentityMustBeNonEmptyAndEqual)
{
    SubscriptionAccess rules;
    rules.identity = true;
    EXPECT_TRUE(decide(rules, "customer", "42", "42").allowed);

    AccessDecision d = decide(rules, "customer", "42", "43");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.identity, IdentityStatus::Mismatch);
    EXPECT_EQ(access_refusal_text(d), "identifier is not the identity");

    d = decide(rules, "customer", "", "");
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.identity, IdentityStatus::Empty);
    EXPECT_EQ(access_refusal_text(d), "no identity");

    EXPECT_FALSE(decide(rules, "customer", "42", std::nullopt).allowed);
    EXPECT_FALSE(decide(rules, "customer", std::nullopt, "42").allowed);
    // exact bytes: no case folding, no trimming
    EXPECT_FALSE(decide(rules, "customer", "42 ", "42").allowed);
}

TEST(SubscriptionAccess, TokenMode)
{
    SubscriptionAccess rules;
    rules.secret = kSecret;
    EXPECT_TRUE(decide(rules, "customer", "42", std::nullopt,
                       std::string_view(kCustomer42)).allowed);

    AccessDecision d = decide(rules, "customer", "43", std::nullopt,
                              std::string_view(kCustomer42));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(access_refusal_text(d), "token not valid for this group");

    d = decide(rules, "customer", "42", std::nullopt);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(access_refusal_text(d), "no token");

    d = decide(rules, "customer", "42", std::nullopt,
               std::string_view(kCustomer42), 1700000000);
    EXPECT_EQ(access_refusal_text(d), "expired token");
}

TEST(SubscriptionAccess, AnyConfiguredModeSuffices)
{
    SubscriptionAccess rules;
    rules.public_groups = {"news"};
    rules.identity = true;
    rules.secret = kSecret;

    EXPECT_TRUE(decide(rules, "news", "x", std::nullopt).allowed);
    EXPECT_TRUE(decide(rules, "customer", "42", "42").allowed);
    EXPECT_TRUE(decide(rules, "customer", "42", "7",
                       std::string_view(kCustomer42)).allowed);

    AccessDecision d = decide(rules, "customer", "42", "7",
                              std::string_view("1.x"));
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(access_refusal_text(d), "not a public group; identifier is not "
              "the identity; malformed token");
}
