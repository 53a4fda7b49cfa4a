// What engagement (webpush_events) adds to a delivery: making its token
// and writing it into the payload (src/sender/event_payload.hpp), next to
// what a message costs in crypto (crypto_bench); and checking a reported
// token (src/crypto/event_token.hpp).
//
//   event_bench

#include <cstdlib>
#include <string>

#include <benchmark/benchmark.h>

#include "crypto/event_token.hpp"
#include "crypto/keys.hpp"
#include "sender/event_payload.hpp"

using namespace webpush;

namespace {

const char vapid_pem[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIDDBjJYXsp843Uyl4REOqPO8IFwDPVKjwShG7lW2BbhMoAoGCCqGSM49\n"
    "AwEHoUQDQgAEmUez+PKKE9a8cc1VnzfeVUcMlNt+PH0Gua6+5fCfNA/O9K1+bdP/\n"
    "ise9WT6oBezH7Pe9Qa+hGp5Ionwyo59yxQ==\n"
    "-----END EC PRIVATE KEY-----\n";

crypto::EventTokenKey
key()
{
    std::string reason;
    auto vapid = crypto::VapidKey::load_pem(vapid_pem, reason);
    auto k = vapid ? crypto::EventTokenKey::derive(*vapid, reason)
                   : std::nullopt;
    if (!k) {
        std::abort();
    }
    return *k;
}

// a compact object of about n bytes, as the API stores payloads
std::string
payload(size_t n)
{
    std::string p = "{\"title\":\"Order shipped\",\"body\":\"";
    p.append(n > p.size() + 2 ? n - p.size() - 2 : 0, 'x');
    return p + "\"}";
}

void
BM_EventTokenMake(benchmark::State &state)
{
    crypto::EventTokenKey k = key();
    int64_t i = 0;

    for (auto _ : state) {
        benchmark::DoNotOptimize(k.make(42, ++i));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventTokenMake);

void
BM_EventTokenCheck(benchmark::State &state)
{
    crypto::EventTokenKey k = key();
    std::string token = k.make(42, 7);
    crypto::EventIds ids;

    for (auto _ : state) {
        benchmark::DoNotOptimize(k.check(token, ids));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventTokenCheck);

// what the sender does per delivery with webpush_events
void
BM_StampPayload(benchmark::State &state)
{
    crypto::EventTokenKey k = key();
    std::string p = payload(static_cast<size_t>(state.range(0)));
    int64_t i = 0;

    for (auto _ : state) {
        auto out = sender::stamp_payload(k, p, 42, ++i);
        if (!out) {
            state.SkipWithError("not stamped");
            break;
        }
        benchmark::DoNotOptimize(out->data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StampPayload)->Arg(200)->Arg(3052);

// the same with the sender's cache: one notification to many
void
BM_EventStamper(benchmark::State &state)
{
    crypto::EventTokenKey k = key();
    sender::EventStamper stamper(k);
    std::string p = payload(static_cast<size_t>(state.range(0)));
    int64_t i = 0;

    for (auto _ : state) {
        auto out = stamper.stamp(p, 42, ++i);
        if (!out) {
            state.SkipWithError("not stamped");
            break;
        }
        benchmark::DoNotOptimize(out->data());
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventStamper)->Arg(200)->Arg(3052);

}  // namespace

BENCHMARK_MAIN();
