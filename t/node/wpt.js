#!/usr/bin/env node
// Drives npm web-push-testing (a push service that decrypts what it gets
// and verifies the VAPID JWT) for the integration tests.
//
//   wpt.js start PORT PIDFILE          start it in the background, wait
//   wpt.js subscribe PORT VAPIDKEY [aesgcm]
//        prints the subscription JSON the module should store, with the
//        endpoint's "localhost" written 127.0.0.1 (nginx's resolver does
//        not read /etc/hosts) and "clientHash" kept for the other commands
//   wpt.js messages PORT HASH          prints the decrypted messages, one
//                                      JSON string per line
//   wpt.js expire PORT HASH            the subscription answers 410 now

'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [cmd, port, ...rest] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;

async function post(url, body) {
    const res = await fetch(base + url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body || {}),
    });
    const text = await res.text();
    if (res.status >= 400) {
        throw new Error(`${url}: ${res.status} ${text}`);
    }
    const json = (res.headers.get('content-type') || '').includes('json');
    return json ? JSON.parse(text) : text;
}

async function start(pidfile) {
    const server = require.resolve('web-push-testing/src/bin/server.js');
    const child = spawn(process.execPath, [server, port], {
        detached: true,
        stdio: 'ignore',
    });
    fs.writeFileSync(pidfile, `${child.pid}\n`);
    child.unref();

    for (let i = 0; i < 100; i++) {
        try {
            await post('/status');
            return;
        } catch (e) {
            await new Promise((r) => setTimeout(r, 100));
        }
    }
    throw new Error('web-push-testing did not start');
}

async function main() {
    switch (cmd) {
    case 'start':
        await start(rest[0]);
        break;

    case 'subscribe': {
        const [key, encoding] = rest;
        const res = await post('/subscribe', {
            userVisibleOnly: 'true',
            applicationServerKey: key,
        });
        const sub = res.data;
        sub.endpoint = sub.endpoint.replace('//localhost:', '//127.0.0.1:');
        if (encoding) {
            sub.contentEncoding = encoding;
        }
        process.stdout.write(JSON.stringify(sub) + '\n');
        break;
    }

    case 'messages': {
        const res = await post('/get-notifications', { clientHash: rest[0] });
        for (const m of res.data.messages) {
            process.stdout.write(JSON.stringify(m) + '\n');
        }
        break;
    }

    case 'expire':
        await post(`/expire-subscription/${rest[0]}`);
        break;

    default:
        throw new Error(`unknown command ${cmd}`);
    }
}

main().catch((e) => {
    process.stderr.write(`wpt.js: ${e.message}\n`);
    process.exit(1);
});
