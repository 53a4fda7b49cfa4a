// Findings of the fuzz targets (fuzz/), kept as unit tests so that the
// ordinary unit run and unit-asan replay them too. The inputs themselves
// are in fuzz/regressions/<target>/.

#include <gtest/gtest.h>

#include <string>

#include "api/requests.hpp"
#include "crypto/keys.hpp"
#include "sender/stored.hpp"

using namespace webpush;

namespace {

const char kP256dh[] =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8p"
    "ZGH6SRpkNtoIAiw4";
const char kAuth[] = "BTBZMqHH6r4Tts7J_aSIgg";

std::string subscription_body(const std::string& payload)
{
    return "{\"data\":{\"type\":\"push-notification-subscriptions\","
           "\"attributes\":{\"providerName\":\"web-push-php\",\"group\":"
           "{\"name\":\"warehouse\"},\"payload\":"
           + payload + "}}}";
}

api::SubscriptionRules real_rules()
{
    api::SubscriptionRules rules;
    rules.key_check = [](std::string_view p, std::string_view a,
                         std::string& reason) {
        return crypto::SubscriptionKeys::parse(p, a, reason).has_value();
    };
    return rules;
}

}  // namespace

// fuzz/regressions/jsonapi_documents/api-sender-key-choice-empty-pair:
// the API took "keys" when publicKey/authToken were empty strings (its
// pair needs non-empty strings), the sender took the empty pair, so an
// accepted subscription could never be delivered.
TEST(FuzzRegressions, SenderReadsTheKeysTheApiChecked)
{
    const std::string keys = std::string("\"keys\":{\"p256dh\":\"") + kP256dh
                             + "\",\"auth\":\"" + kAuth + "\"}";
    for (const char* pair : {"\"publicKey\":\"\",\"authToken\":\"\",",
                             "\"publicKey\":\"x\",\"authToken\":\"\",",
                             "\"publicKey\":\"\",\"authToken\":\"x\","}) {
        std::string body = subscription_body(
            std::string("{\"endpoint\":\"https://fcm.googleapis.com/x\",")
            + pair + keys + "}");
        api::SubscriptionValidation v = api::parse_subscription_request(
            body.data(), body.size(), real_rules());
        ASSERT_TRUE(v.errors.empty()) << pair;

        std::string reason;
        auto stored = sender::parse_stored_subscription(
            v.request.payload_stored, reason);
        ASSERT_TRUE(stored.has_value()) << reason;
        EXPECT_EQ(stored->p256dh, v.request.p256dh) << pair;
        EXPECT_EQ(stored->auth, v.request.auth) << pair;
        EXPECT_TRUE(crypto::SubscriptionKeys::parse(stored->p256dh,
                                                    stored->auth, reason))
            << reason;
    }
}

// The pair still wins when both are non-empty strings, on both sides.
TEST(FuzzRegressions, NonEmptyPairStillWins)
{
    std::string payload = std::string("{\"endpoint\":\"https://x/\",")
                          + "\"publicKey\":\"" + kP256dh
                          + "\",\"authToken\":\"" + kAuth
                          + "\",\"keys\":{\"p256dh\":\"a\",\"auth\":\"b\"}}";
    std::string reason;
    auto stored = sender::parse_stored_subscription(payload, reason);
    ASSERT_TRUE(stored.has_value()) << reason;
    EXPECT_EQ(stored->p256dh, kP256dh);
    EXPECT_EQ(stored->auth, kAuth);
}
