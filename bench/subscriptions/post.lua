-- wrk script: POST /push-notification-subscriptions with a distinct, valid
-- subscription per request (bench/subscriptions-bench runs it).
--
-- Uniqueness comes from the endpoint: .../fcm/send/wrk-<tag>-<thread>-<n>
-- (tag from WEBPUSH_BENCH_TAG, one per run and phase, so that runs and
-- warm-ups never collide).  The key pair is fixed and valid (a P-256 point
-- and a 16-byte auth secret, as in t/011-subscriptions.t): the module
-- checks it on every request all the same.
--
-- done() prints one machine-readable line, "WRK_RESULT k=v ...", that
-- the driver parses: requests, non-2xx/3xx, socket errors, duration and
-- latency percentiles (microseconds).

local tag = os.getenv("WEBPUSH_BENCH_TAG") or tostring(os.time())

local threads = {}
local thread_no = 0

function setup(thread)
    thread_no = thread_no + 1
    thread:set("tid", thread_no)
    table.insert(threads, thread)
end

local prefix, suffix, counter, headers

function init(args)
    counter = 0
    prefix = '{"data":{"type":"push-notification-subscriptions",'
        .. '"attributes":{"providerName":"web-push-php",'
        .. '"group":{"name":"bench","identifier":"1"},'
        .. '"payload":{"endpoint":"https://fcm.googleapis.com/fcm/send/'
        .. tag .. '-' .. tostring(tid) .. '-'
    suffix = '","expirationTime":null,"keys":{'
        .. '"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-'
        .. 'AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",'
        .. '"auth":"BTBZMqHH6r4Tts7J_aSIgg"}},"localeName":"en_US"}}}'
    headers = { ["Content-Type"] = "application/vnd.api+json" }
end

function request()
    counter = counter + 1
    return wrk.format("POST", "/push-notification-subscriptions", headers,
                      prefix .. counter .. suffix)
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "WRK_RESULT requests=%d duration_us=%d non2xx=%d connect=%d read=%d"
        .. " write=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f\n",
        summary.requests, summary.duration, e.status, e.connect, e.read,
        e.write, e.timeout, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.mean))
end
