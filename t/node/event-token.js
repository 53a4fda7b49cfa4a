#!/usr/bin/env node
// Engagement tokens (webpushEvent, src/crypto/event_token.hpp) taken apart
// and altered, for the tests that forge them.  A token is base64url of
// 33 bytes: version (1), notification id and subscription id (8 bytes
// each, big-endian), 16 bytes of MAC.  This knows the layout, not the key.
//
//   event-token.js ids TOKEN            "<notification> <subscription>"
//   event-token.js set-ids TOKEN N S    the token naming N and S, its MAC
//                                       kept (what a forger can do)
//   event-token.js flip TOKEN BYTE [BIT]  one bit flipped (BIT 0 default)
//   event-token.js splice TOKEN OTHER   TOKEN's version and ids with
//                                       OTHER's MAC

'use strict';

function decode(token) {
    const raw = Buffer.from(token, 'base64url');
    if (raw.length !== 33) {
        throw new Error(`not a 33-byte token: ${token}`);
    }
    return raw;
}

const [cmd, token, ...rest] = process.argv.slice(2);
const raw = decode(token || '');
let out;

switch (cmd) {
case 'ids':
    out = `${raw.readBigInt64BE(1)} ${raw.readBigInt64BE(9)}`;
    break;
case 'set-ids':
    raw.writeBigInt64BE(BigInt(rest[0]), 1);
    raw.writeBigInt64BE(BigInt(rest[1]), 9);
    out = raw.toString('base64url');
    break;
case 'flip':
    raw[Number(rest[0])] ^= 1 << Number(rest[1] || 0);
    out = raw.toString('base64url');
    break;
case 'splice':
    decode(rest[0]).copy(raw, 17, 17);
    out = raw.toString('base64url');
    break;
default:
    process.stderr.write('usage: event-token.js ids|set-ids|flip|splice'
                         + ' TOKEN ...\n');
    process.exit(2);
}

process.stdout.write(out + '\n');
