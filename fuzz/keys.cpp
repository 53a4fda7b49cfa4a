// Key material and its text forms: base64_decode/base64url_encode,
// SubscriptionKeys::parse (input split at the first two newlines into
// p256dh and auth), validate_subject and VapidKey::load_pem (the whole
// input), vapid_verify (the whole input as a JWT).

#include <cstring>
#include <string>

#include "crypto/base64.hpp"
#include "crypto/keys.hpp"
#include "crypto/vapid.hpp"
#include "fuzz_common.hpp"

using namespace webpush::crypto;

namespace {

// A fixed VAPID key (generated for these tests, never used elsewhere),
// loaded once, to sign and verify with.
const VapidKey& fixed_key()
{
    static const VapidKey key = [] {
        std::string reason;
        auto k = VapidKey::load_pem(
            "-----BEGIN PRIVATE KEY-----\n"
            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgAyK7lxhoK08BA2UO\n"
            "WIXg2NQ6JKzK6rnwfSt284ow/HChRANCAAQ8rSun/AAwgTNOOOBP4nJUdOeVp89Q\n"
            "G/IseFzBrNZ6lh3GJvUTeopRL/oLB3xFuS+NBD69ttP+lMwj+7ri+HPL\n"
            "-----END PRIVATE KEY-----\n",
            reason);
        if (!k) {
            std::fprintf(stderr, "fixed key: %s\n", reason.c_str());
            std::abort();
        }
        return *k;
    }();
    return key;
}

void base64(std::string_view in)
{
    // Every byte string survives a round trip.
    std::string enc = base64url_encode(in);
    FUZZ_CHECK(enc.size() == (in.size() * 4 + 2) / 3, "unpadded length");
    auto dec = base64_decode(enc);
    FUZZ_CHECK(dec && dec->size() == in.size()
                   && (in.empty()
                       || std::memcmp(dec->data(), in.data(), in.size())
                              == 0),
               "decode(encode(x)) == x");

    // Whatever decodes, decodes to what its canonical form decodes to.
    auto raw = base64_decode(in);
    if (raw) {
        FUZZ_CHECK(in.size() % 4 != 1, "4n+1 never decodes");
        auto again = base64_decode(base64url_encode(*raw));
        FUZZ_CHECK(again && *again == *raw, "canonical form decodes alike");
    }
}

void subscription_keys(std::string_view in)
{
    std::size_t nl = in.find('\n');
    std::string_view p256dh = in.substr(0, nl);
    std::string_view auth;
    if (nl != std::string_view::npos) {
        auth = in.substr(nl + 1);
        auth = auth.substr(0, auth.find('\n'));
    }
    std::string reason;
    auto keys = SubscriptionKeys::parse(p256dh, auth, reason);
    if (!keys) {
        FUZZ_CHECK(!reason.empty(), "a refusal has a reason");
        return;
    }
    FUZZ_CHECK(keys->pkey != nullptr, "imported key");
    FUZZ_CHECK(keys->p256dh[0] == 0x04, "uncompressed point");
    auto point = base64_decode(p256dh);
    auto secret = base64_decode(auth);
    FUZZ_CHECK(point && point->size() == 65
                   && std::memcmp(point->data(), keys->p256dh.data(), 65)
                          == 0,
               "p256dh as decoded");
    FUZZ_CHECK(secret && secret->size() == 16
                   && std::memcmp(secret->data(), keys->auth.data(), 16)
                          == 0,
               "auth as decoded");
}

void subject(std::string_view in)
{
    std::string reason;
    if (!validate_subject(in, reason)) {
        FUZZ_CHECK(!reason.empty(), "a refusal has a reason");
        return;
    }
    for (char c : in) {
        auto u = static_cast<unsigned char>(c);
        FUZZ_CHECK(u > 0x20 && u < 0x7f && c != '<' && c != '>',
                   "subject characters");
    }
    // An accepted subject always makes a token that verifies.
    auto jwt = vapid_sign(fixed_key(), "https://fcm.googleapis.com", in,
                          1700000000, reason);
    FUZZ_CHECK(jwt.has_value(), "an accepted subject signs");
    FUZZ_CHECK(vapid_verify(*jwt, fixed_key().public_key(), reason),
               "and verifies");
}

void pem(std::string_view in)
{
    std::string reason;
    auto key = VapidKey::load_pem(in, reason);
    if (!key) {
        FUZZ_CHECK(!reason.empty(), "a refusal has a reason");
        return;
    }
    auto pub = base64_decode(key->public_key_b64u());
    FUZZ_CHECK(pub && pub->size() == 65
                   && std::memcmp(pub->data(), key->public_key().data(), 65)
                          == 0,
               "public key text matches the point");
    auto jwt = vapid_sign(*key, "https://a.example", "mailto:a@b.example",
                          1700000000, reason);
    FUZZ_CHECK(jwt && vapid_verify(*jwt, key->public_key(), reason),
               "a loaded key signs verifiable tokens");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size)
{
    std::string_view in = webpush_fuzz::as_view(data, size);
    base64(in);
    subscription_keys(in);
    subject(in);
    // PEM_read_bio skips everything up to a "-----BEGIN " line, so the
    // rest cannot load; OpenSSL 3's decoder set-up costs ~1 ms per call
    // even for junk, which would starve the other checks here.
    if (in.find("-----BEGIN") != std::string_view::npos) {
        pem(in);
    }
    std::string reason;
    vapid_verify(in, fixed_key().public_key(), reason);
    return 0;
}
