// Chromium's own push service is out of reach here (no internet): its
// pushManager.subscribe() never answers. The tests that need a
// subscription replace PushManager.prototype.subscribe (and getSubscription,
// which must return what subscribe made) with an init script; the
// subscription itself (endpoint and keys) comes from node through an exposed
// binding: from web-push-testing (a real push service peer) or made up.
// Everything else stays real: permission, service worker, fetch, storage.

'use strict';

const crypto = require('node:crypto');

function pageScript() {
    const KEY = 'webpush-test-push-subscription';
    const bytes = (s) => {
        const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
        return Uint8Array.from(b, (c) => c.charCodeAt(0));
    };
    const b64url = (buf) => {
        const u = buf instanceof ArrayBuffer ? new Uint8Array(buf)
            : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
        return btoa(String.fromCharCode(...u)).replace(/\+/g, '-')
            .replace(/\//g, '_').replace(/=+$/, '');
    };
    const make = ({json, key}) => ({
        endpoint: json.endpoint,
        expirationTime: null,
        options: {userVisibleOnly: true,
                  applicationServerKey: bytes(key).buffer},
        getKey: (name) => (json.keys[name] ? bytes(json.keys[name]).buffer
                                           : null),
        toJSON: () => ({endpoint: json.endpoint, expirationTime: null,
                        keys: Object.assign({}, json.keys)}),
        unsubscribe: async () => {
            localStorage.removeItem(KEY);
            return true;
        },
    });
    PushManager.prototype.subscribe = async function (options) {
        const k = options && options.applicationServerKey;
        const key = typeof k === 'string' ? k : b64url(k);
        const json = await window.webpushTestSubscribe({
            applicationServerKey: key,
            userVisibleOnly: !!(options && options.userVisibleOnly),
        });
        localStorage.setItem(KEY, JSON.stringify({json, key}));
        return make({json, key});
    };
    PushManager.prototype.getSubscription = async function () {
        const s = localStorage.getItem(KEY);
        return s ? make(JSON.parse(s)) : null;
    };
}

/* subscribe({applicationServerKey, userVisibleOnly}) in node must resolve
 * to PushSubscriptionJSON {endpoint, keys: {p256dh, auth}}. */
async function installFakePush(context, subscribe) {
    await context.exposeBinding('webpushTestSubscribe',
                                (source, options) => subscribe(options));
    await context.addInitScript(pageScript);
}

/* A made-up subscription at a push service host the module allows. */
function madeUpSubscription() {
    const ecdh = crypto.createECDH('prime256v1');
    ecdh.generateKeys();
    return {
        endpoint: 'https://fcm.googleapis.com/fcm/send/test-'
                  + crypto.randomBytes(12).toString('hex'),
        keys: {p256dh: ecdh.getPublicKey().toString('base64url'),
               auth: crypto.randomBytes(16).toString('base64url')},
    };
}

module.exports = {installFakePush, madeUpSubscription};
