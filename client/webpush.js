/*
 * webpush.js: browser client kit for ngx_http_webpush_module.
 *
 * One file, no build step, no dependencies. It is written as a classic
 * script that defines a global `WebPush`:
 *
 *   <script src="/webpush.js"></script>
 *   <script>
 *     WebPush.subscribe({providerName: 'web-push-php',
 *                        group: {name: 'news', identifier: 'all'}})
 *       .then(uuid => console.log('subscribed', uuid))
 *       .catch(err => console.error(err.name, err.message));
 *   </script>
 *
 * As an ES module, import the companion `webpush.esm.js` (it imports this
 * file for its side effect and re-exports the same functions):
 *
 *   import { subscribe, unsubscribe, status } from '/webpush.esm.js';
 *
 * `webpush-sw.js` (the service worker) must be served from the site so
 * that its scope covers the pages that subscribe; by default it is
 * registered as /webpush-sw.js with scope /.
 *
 * Options (all optional except `group`), defaults in WebPush.defaults and
 * changeable once with WebPush.configure({...}):
 *   providerName  'web-push-php'    a provider created by the backend
 *   group         {name, identifier} the audience notifications are sent to
 *   localeName    undefined         e.g. 'en_US' (must be allowed server-side)
 *   token         undefined         a subscription token the site minted
 *                                   for this group (when the server uses
 *                                   webpush_subscription_token_secret)
 *   apiBase       '/api'            prefix of /push-notification-subscriptions
 *   keyUrl        '/webpush/vapid-public-key'
 *   swUrl         '/webpush-sw.js'
 *   swScope       undefined         (the browser's default: swUrl's folder)
 *   timeout       30000             ms to wait for the browser's push
 *                                   service (an offline browser may never
 *                                   answer)
 *   eventsUrl     '/webpush/events' where webpush-sw.js reports the
 *                                   notifications shown, clicked and closed
 *                                   (a webpush_events location); '' turns
 *                                   reports off. Stored with the state for
 *                                   the worker when the page subscribes.
 *   declarative   true              subscribe through window.pushManager
 *                                   where the browser has it (Safari's
 *                                   Declarative Web Push: no service worker
 *                                   is registered); false: always through
 *                                   the service worker's registration
 *
 * Declarative Web Push: a notification payload {"web_push": 8030,
 * "notification": {"title", "navigate", ...}, "app_badge"} is shown by
 * Safari itself when the page subscribed through window.pushManager, and
 * by webpush-sw.js in every other browser, so one payload works
 * everywhere.
 *
 * Errors are WebPush.WebPushError subclasses with a stable `name`:
 *   UnsupportedError  no service workers / Push API / Notification API, or
 *                     not a secure context (https or localhost)
 *   PermissionError   `permission` is 'denied' (blocked) or 'default'
 *                     (prompt dismissed)
 *   ServerError       the API answered an error: `status`, `code` (the first
 *                     JSON:API error code, e.g. '5003') and `errors`
 *                     ([{code, status, message}]); message joins the texts
 *   NetworkError      the request did not complete
 *   PushServiceError  the browser's push service refused to subscribe
 *
 * State: the server's uuid of each subscription is kept in localStorage
 * (key 'webpush') and in IndexedDB (database 'webpush', store 'kv', key
 * 'state'), where the service worker finds what it needs to re-subscribe
 * on `pushsubscriptionchange`.
 */
(function (global) {
    'use strict';

    if (global.WebPush && global.WebPush.version) {
        return;                     // loaded twice (script tag and import)
    }

    var JSONAPI = 'application/vnd.api+json';
    var STORAGE_KEY = 'webpush';
    var SUBSCRIPTIONS = 'push-notification-subscriptions';

    var defaults = {
        providerName: 'web-push-php',
        group: undefined,
        localeName: undefined,
        token: undefined,
        apiBase: '/api',
        keyUrl: '/webpush/vapid-public-key',
        swUrl: '/webpush-sw.js',
        swScope: undefined,
        timeout: 30000,
        eventsUrl: '/webpush/events',
        declarative: true
    };

    // --- errors ------------------------------------------------------------

    class WebPushError extends Error {
        constructor(message, props) {
            super(message);
            this.name = 'WebPushError';
            if (props) {
                Object.assign(this, props);
            }
        }
    }

    class UnsupportedError extends WebPushError {
        constructor(message, props) {
            super(message, props);
            this.name = 'UnsupportedError';
        }
    }

    class PermissionError extends WebPushError {
        constructor(message, props) {
            super(message, props);
            this.name = 'PermissionError';
        }
    }

    class ServerError extends WebPushError {
        constructor(message, props) {
            super(message, props);
            this.name = 'ServerError';
        }
    }

    class NetworkError extends WebPushError {
        constructor(message, props) {
            super(message, props);
            this.name = 'NetworkError';
        }
    }

    class PushServiceError extends WebPushError {
        constructor(message, props) {
            super(message, props);
            this.name = 'PushServiceError';
        }
    }

    // --- helpers -----------------------------------------------------------

    function options(opts) {
        var o = Object.assign({}, defaults);
        Object.keys(opts || {}).forEach(function (k) {
            if (opts[k] !== undefined) {
                o[k] = opts[k];
            }
        });
        return o;
    }

    function absolute(url) {
        return new URL(url, global.location.href).href;
    }

    function apiUrl(o, uuid) {
        var base = absolute(o.apiBase.replace(/\/+$/, '') + '/' + SUBSCRIPTIONS);
        return uuid ? base + '/' + encodeURIComponent(uuid) : base;
    }

    // Safari's Declarative Web Push: a PushManager on the window itself,
    // push without a service worker (null where the browser has none)
    function windowPushManager() {
        var pm = global.pushManager;
        return pm && typeof pm.subscribe === 'function'
               && typeof pm.getSubscription === 'function' ? pm : null;
    }

    // true when this page subscribes through window.pushManager
    function usesWindowPush(o) {
        return o.declarative !== false && windowPushManager() !== null;
    }

    function supportProblem(o) {
        if (!global.isSecureContext) {
            return 'Web push needs a secure context (https:// or localhost)';
        }
        if (usesWindowPush(o || defaults)) {
            return 'Notification' in global ? null
                   : 'This browser has no Notification API';
        }
        if (!global.navigator || !('serviceWorker' in global.navigator)) {
            return 'This browser has no service workers';
        }
        if (!('PushManager' in global)) {
            return 'This browser has no Push API';
        }
        if (!('Notification' in global)) {
            return 'This browser has no Notification API';
        }
        return null;
    }

    function assertSupported(o) {
        var problem = supportProblem(o);
        if (problem) {
            throw new UnsupportedError(problem);
        }
    }

    function b64urlToBytes(s) {
        var b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
        while (b64.length % 4) {
            b64 += '=';
        }
        var bin = global.atob(b64);
        var out = new Uint8Array(bin.length);
        for (var i = 0; i < bin.length; i++) {
            out[i] = bin.charCodeAt(i);
        }
        return out;
    }

    function bytesToB64url(buf) {
        var bytes = new Uint8Array(buf);
        var bin = '';
        for (var i = 0; i < bytes.length; i++) {
            bin += String.fromCharCode(bytes[i]);
        }
        return global.btoa(bin).replace(/\+/g, '-').replace(/\//g, '_')
            .replace(/=+$/, '');
    }

    function sameBytes(a, b) {
        if (!a || !b) {
            return false;
        }
        a = new Uint8Array(a);
        b = new Uint8Array(b);
        if (a.length !== b.length) {
            return false;
        }
        for (var i = 0; i < a.length; i++) {
            if (a[i] !== b[i]) {
                return false;
            }
        }
        return true;
    }

    function groupOf(g) {
        if (!g || typeof g !== 'object' || typeof g.name !== 'string'
                || g.name === '') {
            throw new TypeError('WebPush: group must be {name, identifier}'
                                + ' with a non-empty name');
        }
        var out = {name: g.name};
        if (g.identifier !== undefined && g.identifier !== null) {
            out.identifier = String(g.identifier);
        }
        return out;
    }

    function recordKey(providerName, group) {
        return JSON.stringify([providerName, group.name,
                               group.identifier === undefined
                                   ? null : group.identifier]);
    }

    // --- HTTP --------------------------------------------------------------

    function errorsOf(doc) {
        if (!doc || !Array.isArray(doc.errors)) {
            return [];
        }
        return doc.errors.map(function (e) {
            return {
                code: e && e.code != null ? String(e.code) : null,
                status: e && e.status != null ? Number(e.status) : null,
                message: e && (e.message || e.detail || e.title) || ''
            };
        });
    }

    async function request(method, url, body) {
        var headers = {Accept: JSONAPI};
        var init = {method: method, headers: headers,
                    credentials: 'same-origin'};
        if (body !== undefined) {
            headers['Content-Type'] = JSONAPI;
            init.body = JSON.stringify(body);
        }
        var res;
        try {
            res = await global.fetch(url, init);
        } catch (e) {
            throw new NetworkError(method + ' ' + url + ' failed: '
                                   + e.message, {cause: e});
        }
        var text = await res.text();
        var doc = null;
        if (text) {
            try {
                doc = JSON.parse(text);
            } catch (e) {
                doc = null;
            }
        }
        if (!res.ok || res.status === 207) {
            var errors = errorsOf(doc);
            var msg = errors.map(function (e) { return e.message; })
                .filter(Boolean).join('; ');
            throw new ServerError(
                msg || (method + ' ' + url + ' answered HTTP ' + res.status),
                {status: res.status, code: errors.length ? errors[0].code : null,
                 errors: errors, url: url, method: method});
        }
        return doc;
    }

    async function fetchKey(o) {
        var doc;
        try {
            doc = await request('GET', absolute(o.keyUrl));
        } catch (e) {
            if (e instanceof ServerError) {
                e.message = 'Could not get the VAPID public key from '
                            + o.keyUrl + ': ' + e.message;
            }
            throw e;
        }
        if (!doc || typeof doc.publicKey !== 'string') {
            throw new ServerError(o.keyUrl + ' did not answer {"publicKey": ...}',
                                  {status: 200, code: null, errors: []});
        }
        return doc.publicKey;
    }

    // --- state: localStorage + IndexedDB ----------------------------------

    function idb(mode, fn) {
        return new Promise(function (resolve, reject) {
            if (!global.indexedDB) {
                resolve(undefined);
                return;
            }
            var open = global.indexedDB.open('webpush', 1);
            open.onupgradeneeded = function () {
                open.result.createObjectStore('kv');
            };
            open.onerror = function () { reject(open.error); };
            open.onsuccess = function () {
                var db = open.result;
                var tx = db.transaction('kv', mode);
                var req = fn(tx.objectStore('kv'));
                var result;
                req.onsuccess = function () { result = req.result; };
                tx.oncomplete = function () { db.close(); resolve(result); };
                tx.onerror = tx.onabort = function () {
                    db.close();
                    reject(tx.error);
                };
            };
        });
    }

    function emptyState() {
        return {version: 1, endpoint: null, applicationServerKey: null,
                keyUrl: null, records: [], updatedAt: 0};
    }

    function readLocal() {
        try {
            var s = JSON.parse(global.localStorage.getItem(STORAGE_KEY));
            return s && Array.isArray(s.records) ? s : null;
        } catch (e) {
            return null;
        }
    }

    // the newer of the two copies (the service worker writes only IndexedDB)
    async function loadState() {
        var local = readLocal();
        var stored = null;
        try {
            stored = await idb('readonly', function (s) {
                return s.get('state');
            });
        } catch (e) {
            stored = null;
        }
        var best = local;
        if (stored && Array.isArray(stored.records)
                && (!best || (stored.updatedAt || 0) > (best.updatedAt || 0))) {
            best = stored;
        }
        if (best && best !== local) {
            writeLocal(best);
        }
        return best || emptyState();
    }

    function writeLocal(state) {
        try {
            global.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
        } catch (e) {
            // storage full or disabled: IndexedDB still has it
        }
    }

    async function saveState(state) {
        state.updatedAt = Date.now();
        writeLocal(state);
        try {
            await idb('readwrite', function (s) {
                return s.put(state, 'state');
            });
        } catch (e) {
            // private mode without IndexedDB: the page still works, the
            // service worker cannot re-subscribe by itself
        }
        return state;
    }

    // --- service worker and permission -------------------------------------

    function requestPermission() {
        if (global.Notification.permission === 'granted') {
            return Promise.resolve('granted');
        }
        return new Promise(function (resolve) {
            // old Safari takes a callback, the others return a promise
            var p = global.Notification.requestPermission(resolve);
            if (p && typeof p.then === 'function') {
                p.then(resolve, function () { resolve('default'); });
            }
        });
    }

    function permissionError(permission) {
        return permission === 'denied'
            ? new PermissionError('Notifications are blocked for this site;'
                                  + ' allow them in the browser\'s site'
                                  + ' settings', {permission: 'denied'})
            : new PermissionError('The notification permission prompt was'
                                  + ' dismissed', {permission: permission});
    }

    /* What the page subscribes through: the service worker's registration,
     * or, with window.pushManager, a stand-in {pushManager} (the rest of
     * the code only uses reg.pushManager). */
    async function register(o) {
        if (usesWindowPush(o)) {
            return {pushManager: windowPushManager()};
        }
        // already there: use it. register() would queue behind any update
        // job the browser runs for the scope (and wait for it to finish)
        var existing = await findRegistration(o);
        if (existing && existing.active) {
            return existing;
        }
        var reg;
        try {
            reg = await global.navigator.serviceWorker.register(
                o.swUrl, o.swScope ? {scope: o.swScope} : undefined);
        } catch (e) {
            throw new WebPushError('Could not register the service worker '
                                   + o.swUrl + ': ' + e.message, {cause: e});
        }
        await activated(reg);
        return reg;
    }

    function activated(reg) {
        if (reg.active) {
            return Promise.resolve(reg);
        }
        var worker = reg.installing || reg.waiting;
        return new Promise(function (resolve, reject) {
            worker.addEventListener('statechange', function () {
                if (worker.state === 'activated') {
                    resolve(reg);
                } else if (worker.state === 'redundant') {
                    reject(new WebPushError('The service worker failed to'
                                            + ' install'));
                }
            });
        });
    }

    async function findRegistration(o) {
        if (supportProblem(o)) {
            return null;
        }
        if (usesWindowPush(o)) {
            return {pushManager: windowPushManager()};
        }
        var script = absolute(o.swUrl);
        var scope = o.swScope ? absolute(o.swScope) : null;
        var regs = await global.navigator.serviceWorker.getRegistrations();
        for (var i = 0; i < regs.length; i++) {
            var w = regs[i].active || regs[i].waiting || regs[i].installing;
            if (w && w.scriptURL === script
                    && (!scope || regs[i].scope === scope)) {
                return regs[i];
            }
        }
        return null;
    }

    // --- public API --------------------------------------------------------

    /**
     * Subscribes this browser to `group` of `providerName` and returns the
     * server's uuid of the subscription. Calling it again for the same
     * group returns the stored uuid without a new request, unless the
     * server's expiredAt is less than a day away: then the subscription is
     * replaced (DELETE + POST), so calling it on every visit keeps it alive.
     */
    async function subscribe(opts) {
        var o = options(opts);
        var group = groupOf(o.group);
        assertSupported(o);

        // ask first, while the click that called us still counts as a user
        // gesture (Safari and Firefox require one); key and worker in parallel
        var results = await Promise.all([
            requestPermission(), fetchKey(o), register(o)
        ]);
        var permission = results[0], publicKey = results[1], reg = results[2];
        if (permission !== 'granted') {
            throw permissionError(permission);
        }

        var key = b64urlToBytes(publicKey);
        var state = await loadState();
        var sub = await reg.pushManager.getSubscription();
        if (sub && !sameBytes(sub.options && sub.options.applicationServerKey,
                              key)) {
            // the server's key changed: this subscription is useless now
            await dropAll(state);
            await sub.unsubscribe().catch(function () {});
            sub = null;
            state = emptyState();
        }
        var reused = !!sub;
        if (!sub) {
            sub = await pushSubscribe(reg, key, o.timeout);
        }
        if (state.endpoint && state.endpoint !== sub.endpoint) {
            // a new browser subscription: the old rows are dead
            await dropAll(state);
            state.records = [];
        }

        var k = recordKey(o.providerName, group);
        var found = state.records.find(function (r) { return r.key === k; });
        if (found && !expiresSoon(found)) {
            var eventsUrl = o.eventsUrl ? absolute(o.eventsUrl) : '';
            if (state.eventsUrl !== eventsUrl) {
                state.eventsUrl = eventsUrl;    // the page changed it
                await saveState(state);
            }
            return found.uuid;
        }
        if (found) {
            // the server forgets a subscription at expiredAt and refuses a
            // duplicate while the old row exists: replace it
            await deleteRecord(found);
            state.records = state.records.filter(function (r) {
                return r !== found;
            });
        }

        var doc;
        try {
            doc = await post(o, group, sub);
        } catch (e) {
            if (!(e instanceof ServerError && e.code === '5003' && reused)) {
                throw e;
            }
            // the server has this browser subscription but we lost its uuid
            // (storage cleared): start over with a fresh one
            await sub.unsubscribe().catch(function () {});
            sub = await pushSubscribe(reg, key, o.timeout);
            await dropAll(state);
            state.records = [];
            doc = await post(o, group, sub);
        }
        var uuid = doc && doc.data && doc.data.id;
        if (!uuid) {
            throw new ServerError('The server accepted the subscription but'
                                  + ' returned no id', {status: 201,
                                  code: null, errors: []});
        }
        state.endpoint = sub.endpoint;
        state.applicationServerKey = publicKey;
        state.keyUrl = absolute(o.keyUrl);
        // for the service worker's engagement reports ('' = none)
        state.eventsUrl = o.eventsUrl ? absolute(o.eventsUrl) : '';
        state.records.push({
            key: k, uuid: uuid, providerName: o.providerName, group: group,
            localeName: o.localeName || null, apiBase: absolute(o.apiBase),
            expiredAt: doc.data.attributes && doc.data.attributes.expiredAt
                       || null
        });
        if (o.token) {
            // the service worker re-subscribes with it while it is valid
            state.records[state.records.length - 1].token = o.token;
        }
        await saveState(state);
        return uuid;
    }

    // renew a day before the server's expiredAt (webpush_subscription_ttl)
    function expiresSoon(r) {
        var t = r.expiredAt ? Date.parse(r.expiredAt) : NaN;
        return !isNaN(t) && t - Date.now() < 24 * 3600 * 1000;
    }

    function post(o, group, sub) {
        var attributes = {providerName: o.providerName, group: group,
                          payload: sub.toJSON()};
        if (o.localeName) {
            attributes.localeName = o.localeName;
        }
        if (o.token) {
            attributes.token = o.token;
        }
        return request('POST', apiUrl(o), {
            data: {type: SUBSCRIPTIONS, attributes: attributes}
        });
    }

    async function pushSubscribe(reg, key, timeout) {
        var timer;
        try {
            return await Promise.race([
                reg.pushManager.subscribe({
                    userVisibleOnly: true, applicationServerKey: key
                }),
                new Promise(function (resolve, reject) {
                    timer = setTimeout(function () {
                        reject(new Error('no answer in ' + timeout + ' ms'));
                    }, timeout);
                })
            ]);
        } catch (e) {
            if (e && e.name === 'NotAllowedError') {
                throw permissionError(global.Notification.permission);
            }
            throw new PushServiceError('The browser could not subscribe to'
                                       + ' its push service: ' + e.message,
                                       {cause: e});
        } finally {
            clearTimeout(timer);
        }
    }

    async function deleteRecord(r) {
        try {
            await request('DELETE', apiUrl({apiBase: r.apiBase}, r.uuid));
        } catch (e) {
            if (!(e instanceof ServerError && e.status === 404)) {
                throw e;            // 404: already gone, that is fine
            }
        }
    }

    async function dropAll(state) {
        for (var i = 0; i < state.records.length; i++) {
            await deleteRecord(state.records[i]);
        }
    }

    /**
     * Deletes the subscription of one group ({providerName, group}) or, with
     * no group, all of them; the browser's push subscription is removed
     * when no group is left. Resolves to the uuids deleted.
     */
    async function unsubscribe(opts) {
        var o = options(opts);
        var state = await loadState();
        var doomed = state.records;
        if (opts && opts.group) {
            var k = recordKey(o.providerName, groupOf(opts.group));
            doomed = state.records.filter(function (r) { return r.key === k; });
        }
        var gone = [];
        for (var i = 0; i < doomed.length; i++) {
            await deleteRecord(doomed[i]);
            gone.push(doomed[i].uuid);
        }
        state.records = state.records.filter(function (r) {
            return gone.indexOf(r.uuid) < 0;
        });
        if (!state.records.length) {
            var reg = await findRegistration(o);
            var sub = reg && await reg.pushManager.getSubscription();
            if (sub) {
                await sub.unsubscribe();
            }
            state.endpoint = null;
        }
        await saveState(state);
        return gone;
    }

    /**
     * What this browser has: {supported, reason, declarative (subscribed
     * through window.pushManager), permission, subscribed, endpoint, uuid,
     * subscriptions: [{uuid, providerName, group, localeName, expiredAt}]}.
     * Never prompts, never registers.
     */
    async function status(opts) {
        var o = options(opts);
        var problem = supportProblem(o);
        var state = await loadState();
        var sub = null;
        if (!problem) {
            var reg = await findRegistration(o);
            sub = reg && await reg.pushManager.getSubscription();
        }
        var records = state.records.map(function (r) {
            return {uuid: r.uuid, providerName: r.providerName,
                    group: r.group, localeName: r.localeName,
                    expiredAt: r.expiredAt};
        });
        return {
            supported: !problem,
            reason: problem,
            declarative: !problem && usesWindowPush(o),
            permission: problem ? 'unsupported'
                                : global.Notification.permission,
            subscribed: !!sub && records.length > 0,
            endpoint: sub ? sub.endpoint : null,
            uuid: records.length ? records[0].uuid : null,
            subscriptions: records
        };
    }

    function configure(opts) {
        Object.keys(opts || {}).forEach(function (k) {
            if (!(k in defaults)) {
                throw new TypeError('WebPush.configure: unknown option ' + k);
            }
            defaults[k] = opts[k];
        });
        return Object.assign({}, defaults);
    }

    // the service worker tells open pages when it re-subscribed
    if (global.navigator && 'serviceWorker' in global.navigator
            && global.isSecureContext) {
        global.navigator.serviceWorker.addEventListener('message', function (e) {
            if (e.data && e.data.type === 'webpush:state' && e.data.state) {
                writeLocal(e.data.state);
            }
        });
    }

    global.WebPush = {
        version: '1.0.0',
        defaults: defaults,
        configure: configure,
        subscribe: subscribe,
        unsubscribe: unsubscribe,
        status: status,
        isSupported: function () { return !supportProblem(); },
        // true where subscribe() goes through window.pushManager
        isDeclarative: function () { return usesWindowPush(defaults); },
        WebPushError: WebPushError,
        UnsupportedError: UnsupportedError,
        PermissionError: PermissionError,
        ServerError: ServerError,
        NetworkError: NetworkError,
        PushServiceError: PushServiceError,
        // exposed for tests and for pages that need them
        util: {b64urlToBytes: b64urlToBytes, bytesToB64url: bytesToB64url}
    };
}(globalThis));
