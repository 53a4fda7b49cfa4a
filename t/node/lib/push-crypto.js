// What a browser does with a push it receives: decrypt the body with the
// user agent's keys of RFC 8291 Appendix A (the keys the tests subscribe
// with), for aes128gcm (RFC 8188/8291) and the legacy aesgcm scheme
// (its dh and salt in the Crypto-Key and Encryption headers).  Shared by
// the mock push services in t/node; http_ece does the decryption.

'use strict';

const crypto = require('crypto');

let ece;
try {
    ece = require('http_ece');
} catch (e) {
    ece = null;
}

// RFC 8291 Appendix A: the user agent's keys
const UA_PRIVATE = 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94';
const UA_PUBLIC = 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4';
const UA_AUTH = 'BTBZMqHH6r4Tts7J_aSIgg';

const b64u = (s) => Buffer.from(s, 'base64url');

// "a=1;b=2, c=3" -> {a:'1', b:'2', c:'3'}
function params(value) {
    const out = {};
    for (const item of (value || '').split(/[;,]/)) {
        const m = /^\s*([A-Za-z0-9_-]+)=("?)([^"]*)\2\s*$/.exec(item);
        if (m) {
            out[m[1].toLowerCase()] = m[3];
        }
    }
    return out;
}

// the user agent's key pair (computeSecret leaves it as it is: one will do)
let uaEcdh = null;
function uaKey() {
    if (!uaEcdh) {
        uaEcdh = crypto.createECDH('prime256v1');
        uaEcdh.setPrivateKey(b64u(UA_PRIVATE));
    }
    return uaEcdh;
}

function available() {
    return ece !== null;
}

// the plaintext (a Buffer) of a push body with Content-Encoding "encoding"
// and the request's headers (lower-case names); throws with the reason
function decryptPush(encoding, headers, body) {
    if (!ece) {
        throw new Error('http_ece is missing: npm install in t/node');
    }
    if (encoding === 'aes128gcm') {
        return ece.decrypt(body, { version: 'aes128gcm', privateKey: uaKey(),
                                   authSecret: UA_AUTH });
    }
    if (encoding === 'aesgcm') {
        const ck = params(headers['crypto-key']);
        const en = params(headers.encryption);
        if (!ck.dh) {
            throw new Error('no dh in Crypto-Key');
        }
        if (!en.salt) {
            throw new Error('no salt in Encryption');
        }
        return ece.decrypt(body, { version: 'aesgcm', privateKey: uaKey(),
                                   dh: ck.dh, salt: en.salt,
                                   authSecret: UA_AUTH });
    }
    throw new Error(`Content-Encoding "${encoding}"`);
}

// the other way round, for tests of the mocks themselves: what an
// application server sends to the Appendix A subscription
function encryptPush(encoding, plaintext) {
    const sender = crypto.createECDH('prime256v1');
    sender.generateKeys();
    const salt = crypto.randomBytes(16);
    const body = ece.encrypt(Buffer.from(plaintext), {
        version: encoding, privateKey: sender, dh: UA_PUBLIC,
        salt, authSecret: UA_AUTH,
    });
    const headers = { 'content-encoding': encoding };
    if (encoding === 'aesgcm') {
        headers['crypto-key'] = `dh=${sender.getPublicKey().toString('base64url')}`;
        headers.encryption = `salt=${salt.toString('base64url')}`;
    }
    return { body, headers };
}

module.exports = {
    UA_PRIVATE, UA_PUBLIC, UA_AUTH, b64u, params, uaKey, available,
    decryptPush, encryptPush,
};
