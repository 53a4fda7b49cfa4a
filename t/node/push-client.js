#!/usr/bin/env node
// Sends one push the way an application server does, to try the mock
// push services themselves (t/033-send-http2.t checks mock-push-h2.js
// with it before it checks the module against it): the body encrypted
// for the RFC 8291 Appendix A subscription (t/node/lib/push-crypto.js),
// over HTTP/2 (node's http2 client, TLS with ALPN h2) or HTTP/1.1.
//
//   push-client.js URL [--ca FILE] [--http1] [--encoding E] [--payload TEXT]
//       E: aes128gcm (default), aesgcm, or garbage (a body of random
//       bytes labelled aes128gcm: it does not decrypt).  Prints the
//       protocol and the status, "h2 201"; "h2 refused" when the stream
//       was reset REFUSED_STREAM; exits 1 on any other failure.

'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http2 = require('http2');
const https = require('https');

const { parseArgs } = require('./lib/cli');
const pushCrypto = require('./lib/push-crypto');

function request(opts) {
    const url = new URL(opts._[0]);
    const encoding = opts.encoding || 'aes128gcm';
    let body;
    let headers;
    if (encoding === 'garbage') {
        body = crypto.randomBytes(120);
        headers = { 'content-encoding': 'aes128gcm' };
    } else {
        ({ body, headers } = pushCrypto.encryptPush(
            encoding, String(opts.payload || '{"hello":"push"}')));
    }
    headers = {
        ...headers,
        ttl: '60',
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        authorization: 'vapid t=not.checked.here, k=none',
    };
    const ca = opts.ca ? fs.readFileSync(String(opts.ca)) : undefined;

    if (opts.http1) {
        return new Promise((resolve, reject) => {
            const req = https.request(url, { method: 'POST', headers, ca,
                                             agent: false }, (res) => {
                res.resume();
                res.on('end', () => resolve(`http1 ${res.statusCode}`));
            });
            req.on('error', reject);
            req.end(body);
        });
    }
    return new Promise((resolve, reject) => {
        const session = http2.connect(url.origin, { ca });
        session.on('error', reject);
        const req = session.request({ ':method': 'POST',
                                      ':path': url.pathname + url.search,
                                      ...headers });
        let status = null;
        req.on('response', (h) => { status = h[':status']; });
        req.on('error', () => {});
        req.on('close', () => {
            session.close();
            if (req.rstCode === http2.constants.NGHTTP2_REFUSED_STREAM) {
                resolve('h2 refused');
            } else if (status !== null) {
                resolve(`h2 ${status}`);
            } else {
                reject(new Error(`stream closed, code ${req.rstCode}`));
            }
        });
        req.resume();
        req.end(body);
    });
}

const opts = parseArgs(process.argv.slice(2));
if (!opts._[0]) {
    process.stderr.write('usage: push-client.js URL [--ca FILE] [--http1] '
                         + '[--encoding aes128gcm|aesgcm|garbage] [--payload TEXT]\n');
    process.exit(2);
}
request(opts).then((line) => {
    process.stdout.write(`${line}\n`);
}, (e) => {
    process.stderr.write(`push-client.js: ${e.message}\n`);
    process.exit(1);
});
