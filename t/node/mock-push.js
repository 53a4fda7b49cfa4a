#!/usr/bin/env node
// A small push service for the fault tests: what web-push-testing cannot
// do (rate limits, server errors, slow answers, broken responses, TLS with
// a test CA).  Plain Node, no packages beyond http_ece (already a test
// peer) to decrypt what it receives.
//
//   mock-push.js --port P [--host 127.0.0.1[,127.0.0.2]] [--tls CERT,KEY]
//                [--dns] [--pidfile F]
//       serves until killed; with --pidfile it detaches, writes the pid
//       of the server to F and returns once the server answers.  --dns
//       also answers DNS queries on UDP port P of the first host: A
//       127.0.0.1 for every name under .test, NXDOMAIN for the others.
//   mock-push.js log P [--tls] [--path /push/x/1] [--fields a,b,...]
//       prints the requests received, one line each, fields separated by
//       a space ("-" when absent); without --fields, the JSON records.
//   mock-push.js conns P [--tls]
//       prints the connections: "sni local-address requests" per line.
//
// Routes (POST, by endpoint path /push/<scenario>/<id>; counters per path):
//   ok            201                 gone        410
//   notfound      404                 toolarge    413
//   badjwt        403 (BadJwtToken)
//   redirect      301 to /push/ok/<id> (must not be followed)
//   trickle[-MS]  a whole 201 answer, one byte every MS ms (300): each
//                 byte within the client's timeout, the answer never
//                 within its deadline; records "sent" (bytes written)
//   chunkext      503, chunked, then an endless chunk extension, written
//                 as fast as the client reads (up to 64 MiB); "sent"
//   chunktrailer  503, chunked, the last chunk, then endless trailer
//                 fields; "sent"
//   ratelimit-N   429 + Retry-After: 1 the first N times, then 201
//   ratelimitdate-N  429 + Retry-After: <HTTP-date 4 s ahead>, then 201
//   flaky-N       500, 503, 500... the first N times, then 201
//   slow-MS       201 after MS ms (the client may give up before)
//   reset[-N]     half a status line, then a TCP reset (the first N times)
//   resethdr[-N]  the status line and half the headers, then a reset
//   garbage[-N]   bytes that are not HTTP, then close
//   chunked       201 with a chunked body: several chunks written apart,
//                 a trailer; the connection stays open
//   chunkedraw    201, chunked, written byte ranges that split the chunk
//                 size lines and CRLFs, then close
//   bigbody       201 with a 200,000-byte body
//   untilclose    201 without Content-Length, the body ends with the
//                 connection
//   continue      100 Continue, then 201 (and close)
//   badtext       400, X-WNS-Error-Description "caf\xE9 ESC[31mred BEL"
//                 (not UTF-8, control bytes)
//   poison        400, X-WNS-Error-Description: poison
//   throttle[-N]  406 + Retry-After: 1 (WNS throttling), then 201
//   busynow[-N]   503, JSON errno 202 (autopush: retry now), then 201
//   busy[-N]      503, JSON errno 201 (autopush: back off), then 201
//   pkmismatch    403 {"reason":"VapidPkHashMismatch"} (Apple)
//   fcmdenied     403, a text body (FCM)
// Before any scenario the request is validated as a push service would:
// POST; TTL present and a non-negative integer; Content-Type
// application/octet-stream; Content-Length equal to the body; Urgency
// and Topic well-formed when present; Content-Encoding aes128gcm with
// "Authorization: vapid t=<JWT>, k=<key>" or aesgcm with
// "Authorization: WebPush <JWT>", "Crypto-Key: dh=...;p256ecdsa=<key>"
// and "Encryption: salt=..."; the JWT is ES256, signed by that key, aud
// the origin the request was sent to, exp in the future and at most 24 h
// away, sub mailto: or https:; the body decrypts with the subscription
// keys of RFC 8291 Appendix A (what the tests subscribe with).  A
// violation is answered 400 with the reason (413 for a body over 4096
// bytes) and recorded.
//
//   GET /log[?path=P]   the records as JSON: t (ms since the epoch),
//                       method, path, scenario, id, n (requests to this
//                       path so far), headers, len, error, outcome (the
//                       status sent, or reset/resethdr/garbage), payload
//                       (decrypted), jwt, conn, sni, local, closed (ms
//                       after arrival when the client closed the
//                       connection before the answer)
//   GET /conns          the connections as JSON

'use strict';

const crypto = require('crypto');
const dgram = require('dgram');
const fs = require('fs');
const http = require('http');
const https = require('https');

const { parseArgs, detach: detachScript } = require('./lib/cli');
// decryption with the RFC 8291 Appendix A user agent's keys (http_ece)
const pushCrypto = require('./lib/push-crypto');

const { b64u, params } = pushCrypto;

/* ---------------------------------------------------------------------- */
/* validation                                                              */

function publicKeyOf(k) {
    const raw = b64u(k);
    if (raw.length !== 65 || raw[0] !== 4) {
        throw new Error(`the VAPID key is not a 65-byte uncompressed point`);
    }
    return crypto.createPublicKey({
        key: { kty: 'EC', crv: 'P-256',
               x: raw.subarray(1, 33).toString('base64url'),
               y: raw.subarray(33).toString('base64url') },
        format: 'jwk',
    });
}

// returns the claims, throws with the reason
function verifyJwt(token, k, aud) {
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]+$/.test(p))) {
        throw new Error('the JWT is not three base64url parts');
    }
    const header = JSON.parse(b64u(parts[0]).toString());
    const claims = JSON.parse(b64u(parts[1]).toString());
    if (header.alg !== 'ES256') {
        throw new Error(`JWT alg ${header.alg}, want ES256`);
    }
    if (header.typ !== undefined && header.typ !== 'JWT') {
        throw new Error(`JWT typ ${header.typ}`);
    }
    const sig = b64u(parts[2]);
    if (sig.length !== 64) {
        throw new Error(`JWT signature of ${sig.length} bytes, want 64`);
    }
    const ok = crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`),
                             { key: publicKeyOf(k), dsaEncoding: 'ieee-p1363' },
                             sig);
    if (!ok) {
        throw new Error('JWT signature does not verify with the key');
    }
    if (claims.aud !== aud) {
        throw new Error(`JWT aud ${claims.aud}, want ${aud}`);
    }
    const now = Math.floor(Date.now() / 1000);
    if (!Number.isInteger(claims.exp) || claims.exp <= now
        || claims.exp > now + 86400 + 60) {
        throw new Error(`JWT exp ${claims.exp} not within 24 h of ${now}`);
    }
    if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub)) {
        throw new Error(`JWT sub ${claims.sub}`);
    }
    return claims;
}

// throws {status, message}
function validate(req, body, rec, scheme) {
    const h = req.headers;
    const bad = (message, status = 400) => {
        const e = new Error(message);
        e.status = status;
        throw e;
    };

    if (req.method !== 'POST') {
        bad(`method ${req.method}, want POST`, 405);
    }
    if (h.ttl === undefined) {
        bad('no TTL header');
    }
    if (!/^[0-9]+$/.test(h.ttl)) {
        bad(`TTL "${h.ttl}" is not a non-negative integer`);
    }
    if (h['content-type'] !== 'application/octet-stream') {
        bad(`Content-Type "${h['content-type']}", want application/octet-stream`);
    }
    if (h['content-length'] === undefined) {
        bad('no Content-Length');
    }
    if (Number(h['content-length']) !== body.length) {
        bad(`Content-Length ${h['content-length']}, body ${body.length} bytes`);
    }
    if (h.urgency !== undefined
        && !['very-low', 'low', 'normal', 'high'].includes(h.urgency)) {
        bad(`Urgency "${h.urgency}"`);
    }
    if (h.topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(h.topic)) {
        bad(`Topic "${h.topic}"`);
    }
    if (body.length > 4096) {
        bad(`body of ${body.length} bytes`, 413);
    }

    const aud = `${scheme}://${h.host}`;
    const enc = h['content-encoding'];
    let plain;

    if (enc === 'aes128gcm') {
        const m = /^vapid t=([^\s,]+), k=([A-Za-z0-9_-]+)$/.exec(
            h.authorization || '');
        if (!m) {
            bad(`Authorization "${h.authorization}" is not "vapid t=..., k=..."`);
        }
        if (h['crypto-key'] !== undefined || h.encryption !== undefined) {
            bad('Crypto-Key or Encryption with aes128gcm');
        }
        try {
            rec.jwt = verifyJwt(m[1], m[2], aud);
        } catch (e) {
            bad(e.message, 403);
        }
        rec.k = m[2];
        if (body.length < 86 + 1 + 16 || body.readUInt32BE(16) < 18
            || body[20] !== 65 || body[21] !== 4) {
            bad('aes128gcm header: want rs >= 18, idlen 65, an uncompressed key');
        }
        try {
            plain = pushCrypto.decryptPush('aes128gcm', h, body);
        } catch (e) {
            bad(`cannot decrypt: ${e.message}`);
        }
    } else if (enc === 'aesgcm') {
        const m = /^WebPush ([^\s,]+)$/.exec(h.authorization || '');
        if (!m) {
            bad(`Authorization "${h.authorization}" is not "WebPush <JWT>"`);
        }
        const ck = params(h['crypto-key']);
        const en = params(h.encryption);
        if (!ck.dh || !ck.p256ecdsa) {
            bad(`Crypto-Key "${h['crypto-key']}" lacks dh or p256ecdsa`);
        }
        if (!en.salt || b64u(en.salt).length !== 16) {
            bad(`Encryption "${h.encryption}" lacks a 16-byte salt`);
        }
        try {
            rec.jwt = verifyJwt(m[1], ck.p256ecdsa, aud);
        } catch (e) {
            bad(e.message, 403);
        }
        rec.k = ck.p256ecdsa;
        try {
            plain = pushCrypto.decryptPush('aesgcm', h, body);
        } catch (e) {
            bad(`cannot decrypt: ${e.message}`);
        }
    } else {
        bad(`Content-Encoding "${enc}", want aes128gcm or aesgcm`);
    }

    rec.payload = plain.toString('utf8');
}

/* ---------------------------------------------------------------------- */
/* the server                                                              */

const records = [];
const conns = [];
const counters = new Map();

function connRecord(sock, sni) {
    const c = { id: conns.length + 1, t: Date.now(), sni: sni || null,
                local: sock.localAddress, requests: 0, admin: false };
    Object.defineProperty(c, 'pending', { value: new Set() });
    conns.push(c);
    return c;
}

function json(res, status, value) {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'Content-Type': 'application/json',
                            'Content-Length': Buffer.byteLength(body) });
    res.end(body);
}

function answer(res, rec, status, headers = {}, body = '') {
    if (res.socket === null || res.socket.destroyed) {
        return;
    }
    rec.outcome = String(status);
    res.writeHead(status, { 'Content-Length': Buffer.byteLength(body),
                            ...headers });
    res.end(body);
}

// raw bytes in pieces, "gap" ms apart, then "done"
function raw(sock, pieces, gap, done) {
    const next = (i) => {
        if (sock.destroyed) {
            return;
        }
        if (i === pieces.length) {
            done();
            return;
        }
        sock.write(pieces[i], () => setTimeout(() => next(i + 1), gap));
    };
    next(0);
}

// text one byte at a time, "gap" ms apart
function trickle(sock, rec, text, gap) {
    rec.sent = 0;
    const next = (i) => {
        if (sock.destroyed) {
            return;
        }
        if (i === text.length) {
            rec.outcome = 'trickle';
            return;
        }
        sock.write(text[i], () => {
            rec.sent++;
            setTimeout(() => next(i + 1), gap);
        });
    };
    next(0);
}

// a chunked 503 that never ends: an endless chunk extension (ext) or
// endless trailer fields, as fast as the peer takes them
function endless(sock, rec, ext) {
    const head = 'HTTP/1.1 503 Service Unavailable\r\n'
                 + 'Transfer-Encoding: chunked\r\n\r\n'
                 + (ext ? '1;' : '0\r\n');
    const piece = ext ? 'x'.repeat(4096)
                      : 'X-Pad: yyyyyyyyyyyyyyyyyyyyyyyy\r\n'.repeat(128);
    rec.sent = 0;
    const write = (data) => {
        if (sock.destroyed || rec.sent > 64 * 1024 * 1024) {
            return;
        }
        rec.sent += data.length;
        if (sock.write(data)) {
            setImmediate(() => write(piece));
        } else {
            sock.once('drain', () => write(piece));
        }
    };
    write(head);
}

function scenario(req, res, rec) {
    const m = /^([a-z]+)(?:-([0-9]+))?$/.exec(rec.scenario || '');
    const name = m ? m[1] : '';
    const arg = m && m[2] !== undefined ? Number(m[2]) : undefined;
    const n = rec.n;
    const sock = req.socket;
    const faulty = arg === undefined || n <= arg;
    const created = { Location: `/m/${rec.id}-${n}` };

    switch (name) {
    case 'ok':
        return answer(res, rec, 201, created);
    case 'redirect':
        /* a push service must never be able to send us elsewhere */
        return answer(res, rec, 301, { Location: `/push/ok/${rec.id}` });
    case 'gone':
        return answer(res, rec, 410, {}, 'push subscription has unsubscribed or expired.\n');
    case 'notfound':
        return answer(res, rec, 404, {}, 'not found\n');
    case 'toolarge':
        return answer(res, rec, 413, {}, 'payload too large\n');
    case 'badjwt':
        return answer(res, rec, 403, { 'Content-Type': 'application/json' },
                      '{"reason":"BadJwtToken"}');
    case 'badtext':
        /* an error text that is not UTF-8 (Latin-1 e-acute), with an
           escape sequence and a bell; raw: Node refuses control bytes */
        rec.outcome = '400';
        return raw(sock, [Buffer.from('HTTP/1.1 400 Bad Request\r\n'
                                      + 'X-WNS-Error-Description: caf\xe9 '
                                      + '\x1b[31mred\x07\r\n'
                                      + 'Content-Length: 0\r\n'
                                      + 'Connection: close\r\n\r\n',
                                      'latin1')],
                   10, () => sock.end());
    case 'poison':
        return answer(res, rec, 400,
                      { 'X-WNS-Error-Description': 'poison' }, 'bad\n');
    case 'throttle':
        /* WNS (Edge) throttles with 406 */
        if (faulty) {
            return answer(res, rec, 406, { 'Retry-After': '1' }, '');
        }
        return answer(res, rec, 201, created);
    case 'busynow':
    case 'busy':
        /* autopush: errno 202 "retry immediately", 201 "back off" */
        if (faulty) {
            return answer(res, rec, 503, { 'Content-Type': 'application/json' },
                          JSON.stringify({ code: 503, error: 'Service Unavailable',
                                           errno: name === 'busynow' ? 202 : 201,
                                           message: 'try again' }));
        }
        return answer(res, rec, 201, created);
    case 'pkmismatch':
        return answer(res, rec, 403, { 'Content-Type': 'application/json' },
                      '{"reason":"VapidPkHashMismatch"}');
    case 'fcmdenied':
        return answer(res, rec, 403, { 'Content-Type': 'text/plain' },
                      'the key in the authorization header does not correspond'
                      + ' to the sender ID used to subscribe this user.\n');
    case 'ratelimit':
        if (n <= (arg || 0)) {
            return answer(res, rec, 429, { 'Retry-After': '1' }, 'slow down\n');
        }
        return answer(res, rec, 201, created);
    case 'ratelimitdate':
        if (n <= (arg || 0)) {
            return answer(res, rec, 429,
                          { 'Retry-After': new Date(Date.now() + 4000).toUTCString() },
                          'slow down\n');
        }
        return answer(res, rec, 201, created);
    case 'flaky':
        if (n <= (arg || 0)) {
            return answer(res, rec, n % 2 ? 500 : 503, {}, 'oops\n');
        }
        return answer(res, rec, 201, created);
    case 'slow':
        setTimeout(() => answer(res, rec, 201, created), arg || 0);
        return undefined;
    case 'trickle':
        /* outcome stays null until done: "closed" records the give-up */
        return trickle(sock, rec, 'HTTP/1.1 201 Created\r\nLocation: /m/1\r\n'
                                  + 'Content-Length: 0\r\n\r\n', arg || 300);
    case 'chunkext':
    case 'chunktrailer':
        return endless(sock, rec, name === 'chunkext');
    case 'reset':
    case 'resethdr':
        if (!faulty) {
            return answer(res, rec, 201, created);
        }
        rec.outcome = name;
        return raw(sock, [name === 'reset'
                          ? 'HTTP/1.1 20'
                          : 'HTTP/1.1 201 Created\r\nLocation: /m/1\r\nContent-Le'],
                   10, () => sock.resetAndDestroy());
    case 'garbage':
        if (!faulty) {
            return answer(res, rec, 201, created);
        }
        rec.outcome = name;
        return raw(sock, [Buffer.from('\x16\x03\x01\x00garbage \x00\xff\r\n\r\n', 'latin1')],
                   10, () => sock.end());
    case 'chunked': {
        rec.outcome = '201';
        res.writeHead(201, { ...created, 'Transfer-Encoding': 'chunked',
                             Trailer: 'X-Mock-Trailer' });
        const parts = ['{"id":', `"${rec.id}",`, '"chunks":', '4}'];
        const next = (i) => {
            if (sock.destroyed) {
                return;
            }
            if (i === parts.length) {
                res.addTrailers({ 'X-Mock-Trailer': 'done' });
                res.end();
                return;
            }
            res.write(parts[i]);
            setTimeout(() => next(i + 1), 15);
        };
        return next(0);
    }
    case 'chunkedraw':
        rec.outcome = '201';
        return raw(sock, ['HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n',
                          'Connection: close\r\n\r\n4', '\r\nabcd\r',
                          '\n10;ext="x"\r\n0123456789', 'abcdef\r\n0\r',
                          '\nX-Trailer: 1\r\n\r\n'],
                   15, () => sock.end());
    case 'bigbody':
        return answer(res, rec, 201, created, 'x'.repeat(200000));
    case 'untilclose':
        rec.outcome = '201';
        return raw(sock, ['HTTP/1.1 201 Created\r\nConnection: close\r\n\r\n',
                          'a body', ' without a length'],
                   15, () => sock.end());
    case 'continue':
        rec.outcome = '201';
        return raw(sock, ['HTTP/1.1 100 Continue\r\n\r\n',
                          'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n'
                          + 'Connection: close\r\n\r\n'],
                   15, () => sock.end());
    default:
        return answer(res, rec, 400, {}, `unknown scenario "${rec.scenario}"\n`);
    }
}

function serve(opts) {
    const port = Number(opts.port);
    const hosts = String(opts.host || '127.0.0.1').split(',');
    let tls = null;

    if (opts.tls) {
        const [cert, key] = String(opts.tls).split(',');
        tls = { cert: fs.readFileSync(cert), key: fs.readFileSync(key) };
    }

    const scheme = tls ? 'https' : 'http';
    const sockConn = new WeakMap();

    const handler = (req, res) => {
        const url = new URL(req.url, 'http://x');
        const conn = sockConn.get(req.socket);

        if (req.method === 'GET' && conn) {
            conn.admin = true;
        }
        if (req.method === 'GET' && url.pathname === '/log') {
            const p = url.searchParams.get('path');
            return json(res, 200, p ? records.filter((r) => r.path === p)
                                    : records);
        }
        if (req.method === 'GET' && url.pathname === '/conns') {
            return json(res, 200, conns.filter((c) => !c.admin));
        }

        const chunks = [];
        const t = Date.now();
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks);
            const m = /^\/push\/([^/]+)\/([^/]+)$/.exec(url.pathname);
            const n = (counters.get(url.pathname) || 0) + 1;
            counters.set(url.pathname, n);

            const rec = {
                t, method: req.method, path: url.pathname,
                scenario: m ? m[1] : null, id: m ? m[2] : null, n,
                headers: req.headers, len: body.length, error: null,
                outcome: null, payload: null, jwt: null, k: null,
                conn: conn ? conn.id : null, sni: conn ? conn.sni : null,
                local: req.socket.localAddress, closed: null,
            };
            records.push(rec);
            if (conn) {
                conn.requests++;
                conn.pending.add(rec);
                res.on('finish', () => conn.pending.delete(rec));
            }

            try {
                validate(req, body, rec, scheme);
            } catch (e) {
                rec.error = e.message;
                return answer(res, rec, e.status || 400, {}, `${e.message}\n`);
            }
            return scenario(req, res, rec);
        });
        return undefined;
    };

    for (const host of hosts) {
        const server = tls ? https.createServer(tls, handler)
                           : http.createServer(handler);
        server.keepAliveTimeout = 120000;
        server.headersTimeout = 130000;
        server.requestTimeout = 0;
        server.on(tls ? 'secureConnection' : 'connection', (sock) => {
            const c = connRecord(sock, tls ? sock.servername : null);
            sockConn.set(sock, c);
            sock.on('error', () => {});
            sock.on('close', () => {
                /* the client gave up on what was not answered yet */
                for (const rec of c.pending) {
                    if (rec.outcome === null) {
                        rec.closed = Date.now() - rec.t;
                    }
                }
                c.pending.clear();
            });
        });
        server.on('clientError', (err, sock) => sock.destroy());
        server.on('tlsClientError', () => {});
        server.listen(port, host);
    }

    if (opts.dns) {
        dnsServer(port, hosts[0]);
    }
}

// A for *.test -> 127.0.0.1; anything else NXDOMAIN; no other record types
function dnsServer(port, host) {
    const sock = dgram.createSocket('udp4');
    sock.on('message', (msg, rinfo) => {
        if (msg.length < 12) {
            return;
        }
        let off = 12;
        const labels = [];
        while (off < msg.length && msg[off] !== 0) {
            labels.push(msg.subarray(off + 1, off + 1 + msg[off]).toString());
            off += msg[off] + 1;
        }
        const qend = off + 5;
        if (qend > msg.length) {
            return;
        }
        const qtype = msg.readUInt16BE(off + 1);
        const name = labels.join('.').toLowerCase();
        const known = name.endsWith('.test');
        const answer = known && qtype === 1;
        const head = Buffer.alloc(12);
        msg.copy(head, 0, 0, 2);
        head.writeUInt16BE(0x8180 | (known ? 0 : 3), 2);
        head.writeUInt16BE(1, 4);
        head.writeUInt16BE(answer ? 1 : 0, 6);
        const parts = [head, msg.subarray(12, qend)];
        if (answer) {
            parts.push(Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60,
                                    0, 4, 127, 0, 0, 1]));
        }
        sock.send(Buffer.concat(parts), rinfo.port, rinfo.address);
    });
    sock.bind(port, host);
}

/* ---------------------------------------------------------------------- */
/* the command line                                                        */

function get(port, tls, path) {
    const mod = tls ? https : http;
    return new Promise((resolve, reject) => {
        const req = mod.get({ host: '127.0.0.1', port, path,
                              rejectUnauthorized: false, agent: false },
        (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
                if (res.statusCode !== 200) {
                    reject(new Error(`${path}: ${res.statusCode}`));
                    return;
                }
                resolve(JSON.parse(Buffer.concat(chunks).toString()));
            });
        });
        req.on('error', reject);
        req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    });
}

function field(rec, name, prev) {
    switch (name) {
    case 'gap':
        return prev ? rec.t - prev.t : 0;
    case 'status':
        return rec.outcome;
    case 'auth':
        return (rec.headers.authorization || '').split(' ')[0];
    case 'aud':
    case 'sub':
        return rec.jwt ? rec.jwt[name] : null;
    case 'exp_in':
        return rec.jwt ? rec.jwt.exp - Math.floor(rec.t / 1000) : null;
    case 'ce':
        return rec.headers['content-encoding'];
    case 'ct':
        return rec.headers['content-type'];
    case 'ttl':
    case 'urgency':
    case 'topic':
        return rec.headers[name];
    default:
        if (name.startsWith('h:')) {
            return rec.headers[name.slice(2).toLowerCase()];
        }
        return rec[name];
    }
}

async function client(cmd, opts) {
    const port = Number(opts._[1]);
    const tls = !!opts.tls;

    if (cmd === 'conns') {
        for (const c of await get(port, tls, '/conns')) {
            process.stdout.write(`${c.sni || '-'} ${c.local} ${c.requests}\n`);
        }
        return;
    }

    const q = opts.path ? `?path=${encodeURIComponent(opts.path)}` : '';
    const recs = await get(port, tls, `/log${q}`);

    if (!opts.fields) {
        process.stdout.write(`${JSON.stringify(recs, null, 1)}\n`);
        return;
    }

    const names = String(opts.fields).split(',');
    let prev = null;
    for (const r of recs) {
        const vals = names.map((f) => {
            const v = field(r, f, prev);
            return v === null || v === undefined || v === '' ? '-' : String(v);
        });
        process.stdout.write(`${vals.join(' ')}\n`);
        prev = r;
    }
}

function detach(opts, argv) {
    return detachScript(__filename, opts, argv,
                        () => get(Number(opts.port), !!opts.tls, '/conns'), 100);
}

async function main() {
    const argv = process.argv.slice(2);
    const opts = parseArgs(argv);
    const cmd = opts._[0];

    if (cmd === 'log' || cmd === 'conns') {
        await client(cmd, opts);
        return;
    }
    if (!opts.port) {
        throw new Error('usage: mock-push.js --port P [--host H] [--tls CERT,KEY] '
                        + '[--dns] [--pidfile F] | log P ... | conns P ...');
    }
    if (!pushCrypto.available()) {
        throw new Error('http_ece is missing: npm install in t/node');
    }
    if (opts.pidfile) {
        await detach(opts, argv);
        return;
    }
    serve(opts);
}

main().catch((e) => {
    process.stderr.write(`mock-push.js: ${e.message}\n`);
    process.exit(1);
});
