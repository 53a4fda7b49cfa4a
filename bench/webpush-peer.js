#!/usr/bin/env node
// The peer the module's sender is compared with: npm web-push (the most
// used Node library) sending the same deliveries to the same mock push
// service, with its best settings: a keep-alive agent and a fixed number
// of requests in flight.
//
//   webpush-peer.js --subscriptions FILE --vapid-key PEM --subject URI
//                   [--concurrency 128] [--payload JSON] [--encoding aes128gcm]
//
// FILE holds one subscription JSON per line ({endpoint, keys:{p256dh,
// auth}}), https endpoints (web-push speaks nothing else).  Prints one
// JSON line: {"sent":N,"failed":N,"seconds":S,"per_second":R,
// "cpu_seconds":C} (C: this process, user + system, while sending).
// web-push signs a VAPID JWT for every request (it has no cache); that is
// part of what is measured, as its users experience.

'use strict';

const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const path = require('path');

const modules = process.env.WEBPUSH_NODE_DIR
    || path.join(__dirname, '..', 't', 'node', 'node_modules');
const webpush = require(path.join(modules, 'web-push'));

function arg(name, fallback) {
    const i = process.argv.indexOf('--' + name);
    return i > 0 ? process.argv[i + 1] : fallback;
}

const subscriptions = fs.readFileSync(arg('subscriptions'), 'utf8')
    .split('\n').filter(Boolean).map((l) => JSON.parse(l));
const concurrency = Number(arg('concurrency', 128));
const payload = arg('payload', '{"title":"Benchmark","body":"hello"}');
const encoding = arg('encoding', 'aes128gcm');

// the VAPID key pair from the module's PEM file, in web-push's form
const key = crypto.createPrivateKey(fs.readFileSync(arg('vapid-key')));
const jwk = key.export({ format: 'jwk' });
const vapid = {
    subject: arg('subject', 'mailto:bench@example.com'),
    publicKey: Buffer.concat([Buffer.from([4]),
        Buffer.from(jwk.x, 'base64url'),
        Buffer.from(jwk.y, 'base64url')]).toString('base64url'),
    privateKey: Buffer.from(jwk.d, 'base64url').toString('base64url'),
};

// web-push speaks https only; the mock's certificate is self-signed
const agent = new https.Agent({ keepAlive: true, maxSockets: concurrency,
                                rejectUnauthorized: false });

async function main() {
    let next = 0;
    let sent = 0;
    let failed = 0;
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();

    async function lane() {
        while (next < subscriptions.length) {
            const sub = subscriptions[next++];
            try {
                await webpush.sendNotification(sub, payload, {
                    vapidDetails: vapid,
                    TTL: 3600,
                    contentEncoding: encoding,
                    agent,
                    timeout: 10000,
                });
                sent++;
            } catch (e) {
                failed++;
                if (failed <= 3) {
                    process.stderr.write(`webpush-peer: ${e.statusCode || ''} `
                                         + `${e.message}\n`);
                }
            }
        }
    }

    await Promise.all(Array.from({ length: concurrency }, lane));

    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    process.stdout.write(JSON.stringify({
        sent, failed, seconds: Number(seconds.toFixed(3)),
        per_second: Math.round(sent / seconds),
        cpu_seconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
    }) + '\n');

    agent.destroy();
}

main().catch((e) => {
    process.stderr.write(`webpush-peer: ${e.stack}\n`);
    process.exit(1);
});
