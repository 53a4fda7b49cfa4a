// Per-message CPU cost of src/crypto.  bench/crypto-ratio compares the
// full-message rate with `openssl speed ecdhp256` (the ECDH derivation
// alone, the floor of any RFC 8291 sender).
//
//   crypto_bench --benchmark_filter=Message

#include <string>

#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include "crypto/base64.hpp"
#include "crypto/ece.hpp"
#include "crypto/keys.hpp"
#include "crypto/ossl.hpp"
#include "crypto/vapid.hpp"

using namespace webpush::crypto;

namespace {

// RFC 8291 Appendix A subscription, as it would be read from the database.
const char ua_public[] = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-"
                         "AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
const char ua_auth[] = "BTBZMqHH6r4Tts7J_aSIgg";

const char vapid_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA/O9K1+bdP/\n"
    "ise9WT6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
    "-----END EC PRIVATE KEY-----\n";

Encryptor
encryptor()
{
    std::string reason;
    auto e = Encryptor::create(reason);
    if (!e) {
        std::abort();
    }
    return std::move(*e);
}

SubscriptionKeys
subscription()
{
    std::string reason;
    auto k = SubscriptionKeys::parse(ua_public, ua_auth, reason);
    if (!k) {
        std::abort();
    }
    return std::move(*k);
}

// Everything a delivery costs in crypto, JWT aside: decode and import the
// stored keys, then ephemeral keygen + ECDH + HKDF + AES-GCM.
void
message(benchmark::State &state, ContentEncoding encoding)
{
    Encryptor e = encryptor();
    std::string payload(static_cast<size_t>(state.range(0)), 'x');
    EncryptedMessage out;
    std::string reason;

    for (auto _ : state) {
        auto ua = SubscriptionKeys::parse(ua_public, ua_auth, reason);
        if (!ua || !e.encrypt(encoding, *ua, payload, 0, out, reason)) {
            state.SkipWithError(reason.c_str());
            break;
        }
        benchmark::DoNotOptimize(out.body.data());
    }
    state.SetItemsProcessed(state.iterations());
}

void
BM_Aes128gcmMessage(benchmark::State &state)
{
    message(state, ContentEncoding::aes128gcm);
}
BENCHMARK(BM_Aes128gcmMessage)->Arg(200)->Arg(3993);

void
BM_AesgcmMessage(benchmark::State &state)
{
    message(state, ContentEncoding::aesgcm);
}
BENCHMARK(BM_AesgcmMessage)->Arg(200);

// Base64 decode + EVP_PKEY_fromdata (with its on-curve check).
void
BM_ImportSubscription(benchmark::State &state)
{
    std::string reason;
    for (auto _ : state) {
        auto ua = SubscriptionKeys::parse(ua_public, ua_auth, reason);
        benchmark::DoNotOptimize(ua);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ImportSubscription);

// Keygen + ECDH + HKDF, no import, no AES.
void
BM_KeySchedule(benchmark::State &state)
{
    Encryptor e = encryptor();
    SubscriptionKeys ua = subscription();
    WebPushSecrets s;
    std::string reason;

    for (auto _ : state) {
        if (!e.derive(ContentEncoding::aes128gcm, ua, s, reason)) {
            state.SkipWithError(reason.c_str());
            break;
        }
        benchmark::DoNotOptimize(s.cek.data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeySchedule);

// The ECDH step as Encryptor does it (new derive context for the message's
// ephemeral key, peer set without re-validation), here with one fixed key.
void
BM_EcdhOnly(benchmark::State &state)
{
    PkeyPtr own(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    SubscriptionKeys ua = subscription();
    unsigned char secret[32];

    for (auto _ : state) {
        PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(),
                                                  nullptr));
        size_t len = sizeof(secret);
        if (EVP_PKEY_derive_init(ctx.get()) != 1
            || EVP_PKEY_derive_set_peer_ex(ctx.get(), ua.pkey.get(), 0) != 1
            || EVP_PKEY_derive(ctx.get(), secret, &len) != 1)
        {
            state.SkipWithError("ECDH failed");
            break;
        }
        benchmark::DoNotOptimize(secret);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EcdhOnly);

// EVP_PKEY_derive alone on a prepared context: what `openssl speed
// ecdhp256` measures.
void
BM_EcdhDeriveOnly(benchmark::State &state)
{
    PkeyPtr own(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    SubscriptionKeys ua = subscription();
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own.get(), nullptr));
    unsigned char secret[32];

    if (EVP_PKEY_derive_init(ctx.get()) != 1
        || EVP_PKEY_derive_set_peer_ex(ctx.get(), ua.pkey.get(), 0) != 1)
    {
        state.SkipWithError("ECDH setup failed");
        return;
    }

    for (auto _ : state) {
        size_t len = sizeof(secret);
        if (EVP_PKEY_derive(ctx.get(), secret, &len) != 1) {
            state.SkipWithError("ECDH failed");
            break;
        }
        benchmark::DoNotOptimize(secret);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EcdhDeriveOnly);

void
BM_JwtSignUncached(benchmark::State &state)
{
    std::string reason;
    auto key = VapidKey::load_pem(vapid_pem, reason);
    int64_t exp = 1700000000;

    for (auto _ : state) {
        auto jwt = vapid_sign(*key, "https://fcm.googleapis.com",
                              "mailto:ops@example.com", exp++, reason);
        benchmark::DoNotOptimize(jwt);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JwtSignUncached);

void
BM_JwtCacheHit(benchmark::State &state)
{
    std::string reason;
    auto key = VapidKey::load_pem(vapid_pem, reason);
    VapidCache cache(*key, "mailto:ops@example.com");
    int64_t now = 1700000000;

    for (auto _ : state) {
        const VapidToken *t = cache.get("https://fcm.googleapis.com", now,
                                        reason);
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JwtCacheHit);

}  // namespace

BENCHMARK_MAIN();
