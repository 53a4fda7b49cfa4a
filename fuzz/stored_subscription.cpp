// A subscription as read back from the database (any producer may have
// written the payload column): parse_stored_subscription, then what the
// sender does with it (ngx_webpush_sender.cpp): re-match the endpoint
// against the allow-list, parse the keys, encrypt, sign the VAPID token
// for the endpoint's origin.

#include <cstring>
#include <string>

#include "push/push_hosts.hpp"
#include "crypto/ece.hpp"
#include "crypto/keys.hpp"
#include "crypto/vapid.hpp"
#include "fuzz_common.hpp"
#include "sender/stored.hpp"

using namespace webpush;

namespace {

const crypto::VapidKey& vapid_key()
{
    static const crypto::VapidKey key = [] {
        std::string reason;
        auto k = crypto::VapidKey::load_pem(
            "-----BEGIN PRIVATE KEY-----\n"
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAyK7lxhoK08BA2UO\n"
            "WIXg2NQ6JKzK6rnwfSt284ow/HChRANCAAQ8rSun/AAwgTNOOOBP4nJUdOeVp89Q\n"
            "G/IseFzBrNZ6lh3GJvUTeopRL/oLB3xFuS+NBD69ttP+lMwj+7ri+HPL\n"
            "-----END PRIVATE KEY-----\n",
            reason);
        if (!k) {
            std::abort();
        }
        return *k;
    }();
    return key;
}

const push::PushHosts& hosts()
{
    static const push::PushHosts h = [] {
        push::PushHosts x = push::PushHosts::defaults();
        std::string reason;
        x.add("http://127.0.0.1:9999", reason);
        x.add("push.example", reason);
        return x;
    }();
    return h;
}

crypto::Encryptor& encryptor()
{
    static crypto::Encryptor e = [] {
        std::string reason;
        auto x = crypto::Encryptor::create(reason);
        if (!x) {
            std::abort();
        }
        return std::move(*x);
    }();
    return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);
    std::string reason;
    auto sub = sender::parse_stored_subscription(in, reason);
    if (!sub) {
        FUZZ_CHECK(!reason.empty(), "a refusal has a reason");
        return 0;
    }
    FUZZ_CHECK(!sub->endpoint.empty(), "endpoint");

    auto ep = hosts().match(sub->endpoint, reason);
    auto keys = crypto::SubscriptionKeys::parse(sub->p256dh, sub->auth,
                                                reason);
    if (keys) {
        const std::string_view plaintext = "{\"title\":\"fuzz\"}";
        crypto::EncryptedMessage msg;
        auto enc = sub->aesgcm ? crypto::ContentEncoding::aesgcm
                               : crypto::ContentEncoding::aes128gcm;
        FUZZ_CHECK(encryptor().encrypt(enc, *keys, plaintext, 0, msg,
                                       reason),
                   "a parsed key encrypts");
        FUZZ_CHECK(msg.body.size() > plaintext.size(), "ciphertext size");
    }
    if (ep) {
        auto jwt = crypto::vapid_sign(vapid_key(), ep->origin,
                                      "mailto:ops@example.com", 1700000000,
                                      reason);
        FUZZ_CHECK(jwt.has_value(), "an accepted origin signs");
        // The claims carry exactly this origin (no JSON breakout).
        std::size_t dot1 = jwt->find('.');
        std::size_t dot2 = jwt->find('.', dot1 + 1);
        auto claims = crypto::base64_decode(
            std::string_view(*jwt).substr(dot1 + 1, dot2 - dot1 - 1));
        FUZZ_CHECK(claims.has_value(), "claims decode");
        json_error_t err;
        json_t* c = json_loadb(reinterpret_cast<const char*>(claims->data()),
                               claims->size(), 0, &err);
        FUZZ_CHECK(c != nullptr, "claims are JSON");
        json_t* aud = json_object_get(c, "aud");
        FUZZ_CHECK(json_is_string(aud) && json_string_value(aud) == ep->origin,
                   "aud is the origin");
        FUZZ_CHECK(json_object_size(c) == 3, "three claims");
        json_decref(c);
    }
    return 0;
}
