#!/usr/bin/env node
// A push service with a configurable answer delay, over TLS, speaking
// HTTP/2 and HTTP/1.1 (ALPN h2 and http/1.1, node's built-in http2 module
// with allowHTTP1): the latency benchmark (bench/latency) and the HTTP/2
// tests.  It counts requests, streams and connections per protocol and
// answers each push after DELAY ms (a timer per request: nothing blocks).
// It checks that a request looks like a push (POST, TTL, Content-Encoding,
// Authorization, a body), answering 400 otherwise.  By default that is
// all, and it keeps nothing per push, so that it stays cheap at 10k/s
// (the benchmark); with --decrypt it also decrypts every body as the
// browser would (t/node/lib/push-crypto.js: http_ece, the RFC 8291
// Appendix A keys the tests subscribe with; aes128gcm and aesgcm),
// answers 400 to a body that does not decrypt, and records every push
// (GET /log) so that a test can check each delivery decrypted, and made
// once.  It does not verify the VAPID JWT (mock-push.js does).
//
//   mock-push-h2.js --port P --tls CERT,KEY [--host 127.0.0.1]
//                   [--delay MS] [--max-streams N] [--goaway-after K]
//                   [--refuse-every M] [--no-h2] [--decrypt]
//                   [--access-log FILE] [--pidfile F]
//       serves until killed; with --pidfile it detaches, writes the pid of
//       the server to F and returns once the server answers.
//         --delay MS         answer every push MS ms after its body ended (0)
//         --max-streams N    SETTINGS_MAX_CONCURRENT_STREAMS N (h2); a
//                            stream over the limit is reset REFUSED_STREAM
//                            by nghttp2 itself, never counted here (read
//                            peak_streams to see the limit honoured)
//         --goaway-after K   after the Kth push on a connection: h2 sends
//                            GOAWAY (NO_ERROR, last stream id = that
//                            stream; streams above it are not processed)
//                            and closes once the streams below are
//                            answered (a client sees the streams above
//                            it reset REFUSED_STREAM); HTTP/1.1 answers
//                            the Kth push with
//                            "Connection: close".  Streams above the
//                            last id that had already arrived (in the
//                            same read as the Kth, say) are reset
//                            REFUSED_STREAM unprocessed, counted in
//                            after_goaway, recorded "refused".  The h2
//                            connection is closed by its socket (FIN):
//                            node's session.close() would send a second
//                            GOAWAY with the last stream id node read,
//                            maybe higher than the first, which a client
//                            must take for a protocol error
//         --refuse-every M   every Mth h2 stream (counted over all
//                            connections) is reset with REFUSED_STREAM
//                            instead of answered (HTTP/1.1: no effect)
//         --no-h2            ALPN offers http/1.1 only (a service without h2)
//         --decrypt          decrypt every push (a 400 "cannot decrypt: ..."
//                            when it does not) and record it for GET /log
//         --access-log FILE  append "PATH OUTCOME" to FILE for every push
//                            (the status sent, "refused" for a stream reset
//                            REFUSED_STREAM, "unanswered" when the client
//                            or the connection went away before the answer),
//                            like bench/fanout/mock-push's access log, so
//                            that deliveries per path can be counted with
//                            sort | uniq -c while the mock runs
//   mock-push-h2.js stats P [--fields a,b.c,...] [--reset]
//       prints the counters (JSON), or with --fields "name=value" for
//       each (a dotted name reaches inside: requests.h2), separated by a
//       space; --reset zeroes them afterwards.
//   mock-push-h2.js control P [--delay MS] [--reset]
//       changes the answer delay of a running server; --reset zeroes the
//       counters (and empties the log).
//   mock-push-h2.js log P [--path /push/x/1] [--fields a,b,...]
//       prints the records of --decrypt (GET /log), one line each, fields
//       separated by a space ("-" when absent); without --fields, JSON.
//
// Routes (POST, by endpoint path /push/<scenario>/<id>, any other path
// under /push/ is "ok"):
//   ok (or anything else)  201 after the delay
//   notfound   404         gone   410
//   ratelimit[-N]          429 + Retry-After: 1 (the first N times for this
//                          path, then 201; without N always)
//   slow-MS                201 after MS ms instead of the delay
// Every answer waits for the delay (refused streams do not).
//
//   GET /stats            the counters as JSON (not counted themselves):
//     requests   {h2, http1}    pushes received (answered or not)
//     streams    h2 streams that carried a push, refused ones included
//     connections {h2, http1}   TLS connections that carried a push
//     handshakes {h2, http1}    every TLS connection by ALPN (stats ones too)
//     open_connections, peak_connections   of those that carried a push
//     peak_streams   the most pushes in flight on one h2 connection
//     in_flight, peak_in_flight   pushes received and not yet answered
//     refused, goaways, closes (HTTP/1.1 Connection: close)
//     after_goaway   h2 streams above a GOAWAY's last stream id, not
//                    processed (--goaway-after)
//     status     {"201": n, ...}
//     per_connection  [{id, proto, requests}] of the connections counted
//     first_ms, last_ms   first push received, last answer sent (epoch ms)
//     decrypted, undecryptable   bodies that did and did not decrypt
//                                (--decrypt; 0 without)
//   GET /log[?path=P]     with --decrypt, every push received, in order of
//                         arrival, as JSON records (empty without):
//     t          ms since the epoch when it arrived
//     path       the request path
//     n          pushes to this path so far, this one included
//     proto      h2 or http1
//     conn, stream   the connection's id (as in per_connection) and the
//                    h2 stream id (null over HTTP/1.1)
//     ce         Content-Encoding
//     status     the status answered (a number), "refused" (stream reset
//                REFUSED_STREAM by --refuse-every, or above a GOAWAY's
//                last stream id), "unanswered" (the
//                client or connection went away first), null while pending
//     plaintext  the decrypted body (UTF-8), null if it did not decrypt
//     error      why it was answered 400, else null
//   POST /control?delay=MS&reset=1   as the control command above

'use strict';

const fs = require('fs');
const http2 = require('http2');
const https = require('https');

const { parseArgs, detach: detachScript } = require('./lib/cli');
const pushCrypto = require('./lib/push-crypto');

const kConn = Symbol('connection');
const PROTO = (alpn) => (alpn === 'h2' ? 'h2' : 'http1');

function freshStats() {
    return {
        requests: { h2: 0, http1: 0 },
        streams: 0,
        connections: { h2: 0, http1: 0 },
        handshakes: { h2: 0, http1: 0 },
        open_connections: 0,
        peak_connections: 0,
        peak_streams: 0,
        in_flight: 0,
        peak_in_flight: 0,
        refused: 0,
        goaways: 0,
        after_goaway: 0,
        closes: 0,
        status: {},
        first_ms: null,
        last_ms: null,
        decrypted: 0,
        undecryptable: 0,
    };
}

function serve(opts) {
    const [certFile, keyFile] = String(opts.tls || '').split(',');
    if (!certFile || !keyFile) {
        throw new Error('--tls CERT,KEY is required');
    }
    const state = {
        delay: Number(opts.delay || 0),
        goawayAfter: Number(opts['goaway-after'] || 0),
        refuseEvery: Number(opts['refuse-every'] || 0),
        stats: freshStats(),
        epoch: 0,          // bumped by a reset: older connections count anew
        conns: new Map(),  // id -> record, this epoch's counted connections
        nextId: 1,
        h2Streams: 0,      // for --refuse-every, never reset
        perPath: new Map(),
        decrypt: !!opts.decrypt,
        records: [],       // --decrypt: every push, for GET /log
        received: new Map(),   // --decrypt: path -> pushes received
        accessLog: opts['access-log']
            ? fs.createWriteStream(String(opts['access-log']), { flags: 'a' })
            : null,
    };
    if (state.decrypt && !pushCrypto.available()) {
        throw new Error('--decrypt needs http_ece: npm install in t/node');
    }

    // the record of a connection (h2 session or HTTP/1.1 socket), counted
    // when it carries its first push of this epoch
    function connOf(holder, proto) {
        let c = holder[kConn];
        if (!c) {
            c = { id: state.nextId++, proto, requests: 0, inFlight: 0,
                  open: true, epoch: -1, goaway: false, goawayLast: 0,
                  sock: null, retired: false, holder };
            holder[kConn] = c;
        }
        if (c.epoch !== state.epoch) {
            c.epoch = state.epoch;
            c.requests = 0;
            const s = state.stats;
            s.connections[proto]++;
            if (c.open) {
                s.open_connections++;
                s.peak_connections = Math.max(s.peak_connections,
                                              s.open_connections);
            }
            state.conns.set(c.id, c);
        }
        return c;
    }

    function connClosed(holder) {
        const c = holder[kConn];
        if (c && c.open) {
            c.open = false;
            if (c.epoch === state.epoch) {
                state.stats.open_connections--;
            }
        }
    }

    function statsJson() {
        const s = state.stats;
        return {
            delay: state.delay,
            ...s,
            per_connection: [...state.conns.values()].map((c) => ({
                id: c.id, proto: c.proto, requests: c.requests })),
        };
    }

    function control(url) {
        if (url.searchParams.has('delay')) {
            state.delay = Number(url.searchParams.get('delay'));
        }
        if (url.searchParams.get('reset') === '1') {
            state.stats = freshStats();
            state.conns.clear();
            state.perPath.clear();
            state.records = [];
            state.received.clear();
            state.epoch++;
            // connections still open count again when they carry a push
        }
    }

    function answerPlan(path) {
        const m = /^\/push\/([^/]+)\//.exec(path);
        const scenario = m ? m[1] : 'ok';
        const n = (state.perPath.get(path) || 0) + 1;
        state.perPath.set(path, n);
        let r;
        if (scenario === 'notfound') {
            return { status: 404, delay: state.delay };
        }
        if (scenario === 'gone') {
            return { status: 410, delay: state.delay };
        }
        if ((r = /^ratelimit(?:-(\d+))?$/.exec(scenario))) {
            if (r[1] === undefined || n <= Number(r[1])) {
                return { status: 429, delay: state.delay,
                         headers: { 'retry-after': '1' } };
            }
            return { status: 201, delay: state.delay };
        }
        if ((r = /^slow-(\d+)$/.exec(scenario))) {
            return { status: 201, delay: Number(r[1]) };
        }
        return { status: 201, delay: state.delay };
    }

    // the outcome of a push (the first one told): in its record and the
    // access log
    function outcome(ex, what) {
        if (ex.done) return;
        ex.done = true;
        if (ex.rec) ex.rec.status = what;
        if (state.accessLog) state.accessLog.write(`${ex.path} ${what}\n`);
    }

    // TLS sockets of the h2 connections by remote port (the session has
    // only a proxy of it, which cannot close it)
    const h2Sockets = new Map();

    // after its GOAWAY, once the streams at or below the last id are
    // answered: the answers are written after this tick, then FIN
    function retire(c) {
        if (!c.goaway || c.inFlight > 0 || c.retired) return;
        c.retired = true;
        const sock = c.sock;
        if (!sock) return;
        setTimeout(() => sock.end(), 100);
        setTimeout(() => sock.destroy(), 5000).unref();
    }

    function check(req, len) {
        const h = req.headers;
        if (req.method !== 'POST') return `method ${req.method}`;
        if (!/^\d+$/.test(h.ttl || '')) return 'TTL missing';
        if (!h['content-encoding']) return 'Content-Encoding missing';
        if (!h.authorization) return 'Authorization missing';
        if (len === 0) return 'no body';
        return null;
    }

    function onRequest(req, res) {
        const url = new URL(req.url, 'https://mock');
        if (url.pathname === '/stats' && req.method === 'GET') {
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(`${JSON.stringify(statsJson())}\n`);
            return;
        }
        if (url.pathname === '/log' && req.method === 'GET') {
            const p = url.searchParams.get('path');
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(`${JSON.stringify(p ? state.records.filter((r) => r.path === p)
                                        : state.records)}\n`);
            return;
        }
        if (url.pathname === '/control' && req.method === 'POST') {
            control(url);
            res.writeHead(204);
            res.end();
            return;
        }

        const h2 = req.httpVersionMajor === 2;
        const proto = h2 ? 'h2' : 'http1';
        const s = state.stats;
        if (h2 && !req.stream.session) {
            // node emits a stream after the read that brought it: its
            // session closed meanwhile, after a GOAWAY and the answers to
            // the streams below its last id, so it is one above that id,
            // not processed (the client sent it again elsewhere)
            s.streams++;
            s.after_goaway++;
            if (state.decrypt) {
                state.records.push({ t: Date.now(), path: url.pathname,
                                     n: null, proto, conn: null,
                                     stream: req.stream.id,
                                     ce: req.headers['content-encoding'] || null,
                                     status: 'refused', plaintext: null,
                                     error: null });
            }
            return;
        }
        const c = connOf(h2 ? req.stream.session : req.socket, proto);
        s.requests[proto]++;
        c.requests++;
        if (s.first_ms === null) s.first_ms = Date.now();

        const path = url.pathname;
        let rec = null;
        if (state.decrypt) {
            const n = (state.received.get(path) || 0) + 1;
            state.received.set(path, n);
            rec = { t: Date.now(), path, n, proto, conn: c.id,
                    stream: h2 ? req.stream.id : null,
                    ce: req.headers['content-encoding'] || null,
                    status: null, plaintext: null, error: null };
            state.records.push(rec);
        }
        const ex = { path, rec, done: false };
        if (rec || state.accessLog) {
            // whatever was not answered when the exchange ends
            res.on('close', () => outcome(ex, 'unanswered'));
        }

        if (h2) {
            s.streams++;
            if (c.goaway && req.stream.id > c.goawayLast) {
                // the client was told this stream is not processed: it
                // sends it again elsewhere
                s.after_goaway++;
                outcome(ex, 'refused');
                req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
                return;
            }
            state.h2Streams++;
            if (state.refuseEvery > 0
                && state.h2Streams % state.refuseEvery === 0) {
                s.refused++;
                outcome(ex, 'refused');
                req.stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
                return;
            }
        }

        let last = false;
        if (state.goawayAfter > 0 && c.requests === state.goawayAfter) {
            last = true;
            if (h2 && !c.goaway) {
                c.goaway = true;
                c.goawayLast = req.stream.id;
                s.goaways++;
                const session = req.stream.session;
                session.goaway(http2.constants.NGHTTP2_NO_ERROR,
                               req.stream.id);
                // closed once the streams at or below the last id are
                // answered (retire())
                c.sock = h2Sockets.get(session.socket.remotePort) || null;
            }
        }

        c.inFlight++;
        s.in_flight++;
        s.peak_in_flight = Math.max(s.peak_in_flight, s.in_flight);
        if (h2) s.peak_streams = Math.max(s.peak_streams, c.inFlight);

        let len = 0;
        const chunks = rec ? [] : null;
        req.on('data', (d) => {
            len += d.length;
            if (chunks) chunks.push(d);
        });
        req.on('end', () => {
            let bad = check(req, len);
            if (rec && !bad) {
                try {
                    rec.plaintext = pushCrypto.decryptPush(
                        req.headers['content-encoding'], req.headers,
                        Buffer.concat(chunks)).toString('utf8');
                    s.decrypted++;
                } catch (e) {
                    s.undecryptable++;
                    bad = `cannot decrypt: ${e.message}`;
                }
            }
            if (rec) rec.error = bad;
            const plan = bad ? { status: 400, delay: 0 } : answerPlan(path);
            const answer = () => {
                c.inFlight--;
                s.in_flight--;
                if (h2) retire(c);
                if (res.destroyed || res.writableEnded
                    || (h2 && req.stream.destroyed)) {
                    return;
                }
                const headers = { ...(plan.headers || {}) };
                if (last && !h2) {
                    headers.connection = 'close';
                    s.closes++;
                }
                const body = bad ? `${bad}\n` : '';
                headers['content-length'] = String(Buffer.byteLength(body));
                outcome(ex, plan.status);
                res.writeHead(plan.status, headers);
                res.end(body);
                s.status[plan.status] = (s.status[plan.status] || 0) + 1;
                s.last_ms = Date.now();
            };
            if (plan.delay > 0) {
                setTimeout(answer, plan.delay);
            } else {
                answer();
            }
        });
        req.on('error', () => {});
    }

    const tlsOpts = {
        cert: fs.readFileSync(certFile),
        key: fs.readFileSync(keyFile),
    };
    let server;
    if (opts['no-h2']) {
        server = https.createServer({ ...tlsOpts, ALPNProtocols: ['http/1.1'],
                                      keepAliveTimeout: 60000 }, onRequest);
    } else {
        const settings = {};
        if (opts['max-streams']) {
            settings.maxConcurrentStreams = Number(opts['max-streams']);
        }
        server = http2.createSecureServer({
            ...tlsOpts, allowHTTP1: true, settings,
            // many streams in flight on one session: more than the 10 MB
            // default before nghttp2 answers ENHANCE_YOUR_CALM
            maxSessionMemory: 256,
        }, onRequest);
        server.on('session', (session) => {
            session.on('close', () => connClosed(session));
            session.on('error', () => {});
        });
    }
    server.keepAliveTimeout = 60000;
    server.on('secureConnection', (sock) => {
        state.stats.handshakes[PROTO(sock.alpnProtocol)]++;
        if (PROTO(sock.alpnProtocol) === 'http1') {
            sock.on('close', () => connClosed(sock));
        } else {
            const port = sock.remotePort;
            h2Sockets.set(port, sock);
            sock.on('close', () => {
                if (h2Sockets.get(port) === sock) h2Sockets.delete(port);
            });
        }
        sock.on('error', () => {});
    });
    server.on('tlsClientError', () => {});
    server.listen(Number(opts.port), opts.host || '127.0.0.1');
    process.on('SIGTERM', () => process.exit(0));
}

function call(port, method, path) {
    return new Promise((resolve, reject) => {
        const req = https.request({
            host: '127.0.0.1', port, method, path,
            rejectUnauthorized: false, agent: false,
        }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { body += d; });
            res.on('end', () => (res.statusCode < 300 ? resolve(body)
                : reject(new Error(`${path}: ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end();
    });
}

function field(rec, name) {
    const v = rec[name];
    return v === null || v === undefined || v === '' ? '-' : String(v);
}

async function log(port, opts) {
    const q = opts.path ? `?path=${encodeURIComponent(opts.path)}` : '';
    const recs = JSON.parse(await call(port, 'GET', `/log${q}`));
    if (!opts.fields) {
        process.stdout.write(`${JSON.stringify(recs, null, 1)}\n`);
        return;
    }
    const names = String(opts.fields).split(',');
    for (const r of recs) {
        process.stdout.write(`${names.map((f) => field(r, f)).join(' ')}\n`);
    }
}

function detach(opts, argv) {
    return detachScript(__filename, opts, argv,
                        () => call(Number(opts.port), 'GET', '/stats'), 200);
}

async function main() {
    const argv = process.argv.slice(2);
    const opts = parseArgs(argv);
    const cmd = opts._[0];

    if (cmd === 'log') {
        await log(Number(opts._[1]), opts);
        return;
    }
    if (cmd === 'stats' || cmd === 'control') {
        const port = Number(opts._[1]);
        if (cmd === 'stats') {
            const text = await call(port, 'GET', '/stats');
            if (opts.fields) {
                const s = JSON.parse(text);
                const out = String(opts.fields).split(',').map((f) => {
                    const v = f.split('.').reduce((o, k) => (o == null ? o : o[k]), s);
                    return `${f}=${v === undefined ? '-' : JSON.stringify(v)}`;
                });
                process.stdout.write(`${out.join(' ')}\n`);
            } else {
                process.stdout.write(text);
            }
        }
        const q = new URLSearchParams();
        if (cmd === 'control' && opts.delay !== undefined) {
            q.set('delay', String(Number(opts.delay)));
        }
        if (opts.reset) q.set('reset', '1');
        if ([...q.keys()].length) {
            await call(port, 'POST', `/control?${q}`);
        }
        return;
    }
    if (!opts.port) {
        throw new Error('usage: mock-push-h2.js --port P --tls CERT,KEY '
                        + '[--delay MS] [--max-streams N] [--goaway-after K] '
                        + '[--refuse-every M] [--no-h2] [--decrypt] '
                        + '[--access-log FILE] [--pidfile F] '
                        + '| stats P [--fields a,b.c] [--reset] '
                        + '| control P [--delay MS] [--reset] '
                        + '| log P [--path P] [--fields a,b]');
    }
    if (opts.pidfile) {
        await detach(opts, argv);
        return;
    }
    serve(opts);
}

main().catch((e) => {
    process.stderr.write(`mock-push-h2.js: ${e.message}\n`);
    process.exit(1);
});
