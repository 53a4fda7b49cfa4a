// The client kit (client/webpush.js, the demo page) in headless Chromium,
// against the module's real VAPID key location and a JSON:API stand-in
// routed inside the browser (/kit-api/...), so that every request the kit
// makes, and every answer it must handle, is seen and chosen here. The real
// endpoints are exercised by subscribe.test.js.
//
//   WEBPUSH_BASE_URL=http://127.0.0.1:8080 node t/browser/kit.test.js

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {run} = require('./lib/tap');
const {BASE_URL, SCREENSHOT_DIR, checkEnvironment, launch, waitFor} =
    require('./lib/browser');
const {installFakePush, madeUpSubscription} = require('./lib/fake-push');

const API = '/kit-api';
const COLLECTION = BASE_URL + API + '/push-notification-subscriptions';
const JSONAPI = 'application/vnd.api+json';

// the stand-in API: answers are queued per test, requests recorded
function standIn(context) {
    const requests = [];
    const answers = [];
    let n = 0;
    context.route(BASE_URL + API + '/**', async (route) => {
        const req = route.request();
        let body = null;
        try {
            body = req.postData() ? JSON.parse(req.postData()) : null;
        } catch (e) {
            body = req.postData();
        }
        requests.push({method: req.method(),
                       path: new URL(req.url()).pathname,
                       contentType: req.headers()['content-type'] || null,
                       accept: req.headers()['accept'] || null,
                       body});
        const answer = answers.shift() || (req.method() === 'DELETE'
            ? {status: 204}
            : created(body, '2099-01-01T00:00:00+00:00'));
        await route.fulfill({
            status: answer.status,
            contentType: answer.contentType || JSONAPI,
            body: answer.body === undefined ? ''
                : typeof answer.body === 'string' ? answer.body
                : JSON.stringify(answer.body),
        });
    });
    function created(body, expiredAt) {
        n++;
        const id = '00000000-0000-5000-8000-' + String(n).padStart(12, '0');
        const attributes = Object.assign({}, body && body.data
                                         && body.data.attributes,
                                         {expiredAt});
        return {status: 201, body: {data: {
            type: 'push-notification-subscriptions', id, attributes,
            links: {self: COLLECTION + '/' + id}}}};
    }
    return {
        requests,
        answer(a) { answers.push(a); },
        created,
        take() { return requests.splice(0); },
    };
}

const errorDoc = (...errors) => ({errors});

run(async (t) => {
    checkEnvironment(t);
    const browser = await launch();
    try {
        const {context} = browser;
        const page = await context.newPage();
        const res = await page.goto(BASE_URL + '/');
        t.is(res.status(), 200, 'the demo page loads');
        t.is(await page.evaluate(() => typeof WebPush.subscribe), 'function',
             'webpush.js defines the global WebPush as a classic script');
        t.ok(await page.evaluate(async () => {
            const m = await import('/webpush.esm.js');
            return m.default === window.WebPush
                && m.subscribe === window.WebPush.subscribe
                && typeof m.ServerError === 'function';
        }), 'webpush.esm.js exports the same functions as an ES module');

        const attempt = (opts) => page.evaluate(async (o) => {
            try {
                return {uuid: await WebPush.subscribe(o)};
            } catch (e) {
                return {name: e.name, message: e.message, code: e.code,
                        status: e.status, errors: e.errors,
                        permission: e.permission,
                        isWebPushError: e instanceof WebPush.WebPushError};
            }
        }, opts);
        const group = {name: 'news', identifier: '7'};

        // --- before any permission or subscription -----------------------
        let r = await attempt({group, apiBase: API});
        t.is(r.name, 'PermissionError',
             'no permission granted → PermissionError');
        t.ok(['denied', 'default'].includes(r.permission) && r.isWebPushError,
             'with the permission state, as a WebPushError', r);

        await context.grantPermissions(['notifications'], {origin: BASE_URL});
        r = await attempt({group, apiBase: API, timeout: 1500});
        t.is(r.name, 'PushServiceError',
             'the real push service unreachable → PushServiceError after the'
             + ' timeout');

        const bare = await context.newPage();
        await bare.addInitScript(() => { delete window.PushManager; });
        await bare.goto(BASE_URL + '/');
        t.same(await bare.evaluate(async () => {
            let err = null;
            try {
                await WebPush.subscribe({group: {name: 'x'}});
            } catch (e) {
                err = e.name + ': ' + e.message;
            }
            const s = await WebPush.status();
            return [WebPush.isSupported(), err, s.supported, s.permission];
        }), [false, 'UnsupportedError: This browser has no Push API', false,
             'unsupported'], 'no Push API → UnsupportedError, status says so');
        await bare.close();

        t.is((await attempt({group: {identifier: '1'}})).name, 'TypeError',
             'a group without name is refused before anything happens');

        // --- with a push subscription and the stand-in API ----------------
        const api = standIn(context);
        const made = [];
        await installFakePush(context, async (options) => {
            made.push(options);
            return madeUpSubscription();
        });
        await page.reload();

        r = await attempt({providerName: 'web-push-php', group: {name: 'news',
                           identifier: 7}, localeName: 'en_US', apiBase: API});
        t.like(r.uuid, /^00000000-0000-5000-8000-0+1$/,
               'subscribe() resolves to the uuid the server returned');
        const key = (await (await fetch(BASE_URL
                                        + '/webpush/vapid-public-key')).json())
            .publicKey;
        t.same(made, [{applicationServerKey: key, userVisibleOnly: true}],
               'pushManager.subscribe got the module\'s VAPID key and'
               + ' userVisibleOnly');
        let reqs = api.take();
        const endpoint = reqs[0] && reqs[0].body.data.attributes.payload.endpoint;
        const keys = reqs[0] && reqs[0].body.data.attributes.payload.keys;
        t.same(reqs, [{
            method: 'POST', path: API + '/push-notification-subscriptions',
            contentType: JSONAPI, accept: JSONAPI,
            body: {data: {type: 'push-notification-subscriptions', attributes: {
                providerName: 'web-push-php',
                group: {name: 'news', identifier: '7'},
                payload: {endpoint, expirationTime: null, keys},
                localeName: 'en_US'}}},
        }], 'it POSTs the JSON:API body with subscription.toJSON() as payload');
        t.ok(/^https:\/\//.test(endpoint) && keys && keys.p256dh && keys.auth,
             'the payload carries endpoint, p256dh and auth', reqs);

        const stored = await page.evaluate(async () => {
            const local = JSON.parse(localStorage.getItem('webpush'));
            const idb = await new Promise((resolve, reject) => {
                const o = indexedDB.open('webpush', 1);
                o.onerror = () => reject(o.error);
                o.onsuccess = () => {
                    const q = o.result.transaction('kv').objectStore('kv')
                        .get('state');
                    q.onsuccess = () => { o.result.close(); resolve(q.result); };
                };
            });
            return {local: local.records.map((x) => x.uuid),
                    idb: idb.records.map((x) => x.uuid),
                    key: idb.applicationServerKey, endpoint: idb.endpoint,
                    apiBase: idb.records[0].apiBase};
        });
        t.same(stored, {local: [r.uuid], idb: [r.uuid], key, endpoint,
                        apiBase: BASE_URL + API},
               'the uuid is kept in localStorage and, for the worker, in'
               + ' IndexedDB');

        const again = await attempt({group: {name: 'news', identifier: '7'},
                                     apiBase: API});
        t.is(again.uuid, r.uuid, 'subscribing the same group again returns'
             + ' the stored uuid');
        t.is(api.take().length, 0, '... without a request');

        let s = await page.evaluate(() => WebPush.status());
        t.same([s.supported, s.permission, s.subscribed, s.uuid, s.endpoint],
               [true, 'granted', true, r.uuid, endpoint],
               'status() reports permission, subscription, uuid, endpoint');

        const other = await attempt({group: {name: 'offers'}, apiBase: API});
        reqs = api.take();
        t.same(reqs.map((q) => [q.method, q.body.data.attributes.group,
                                q.body.data.attributes.payload.endpoint]),
               [['POST', {name: 'offers'}, endpoint]],
               'a second group is a second POST with the same browser'
               + ' subscription');

        const minted = await attempt({group: {name: 'vip', identifier: '9'},
                                      token: '4102444800.minted-by-the-site',
                                      apiBase: API});
        reqs = api.take();
        t.same(reqs.map((q) => [q.body.data.attributes.group,
                                q.body.data.attributes.token]),
               [[{name: 'vip', identifier: '9'},
                 '4102444800.minted-by-the-site']],
               'subscribe({token}) passes the token as attributes.token');
        t.same(await page.evaluate(() => WebPush.unsubscribe({
            group: {name: 'vip', identifier: '9'}})), [minted.uuid],
               '... and that subscription is deleted like any other');
        api.take();

        t.same(await page.evaluate(() => WebPush.unsubscribe({
            group: {name: 'offers'}})), [other.uuid],
               'unsubscribe({group}) deletes that group only');
        reqs = api.take();
        t.same(reqs.map((q) => [q.method, q.path]),
               [['DELETE', API + '/push-notification-subscriptions/'
                 + other.uuid]], '... with DELETE .../{uuid}');
        s = await page.evaluate(() => WebPush.status());
        t.same([s.subscribed, s.subscriptions.length], [true, 1],
               'the browser subscription stays for the other group');

        // --- server errors -------------------------------------------------
        api.answer({status: 404, body: errorDoc({
            code: '5001', status: 404,
            message: 'The push notification provider was not found.'})});
        r = await attempt({providerName: 'nope', group: {name: 'x'},
                           apiBase: API});
        t.same([r.name, r.status, r.code, r.message],
               ['ServerError', 404, '5001',
                'The push notification provider was not found.'],
               'a JSON:API error surfaces as ServerError with status, code,'
               + ' message');
        api.answer({status: 207, body: errorDoc(
            {code: '5002', status: 400, message: 'Wrong group name.'},
            {code: '5009', status: 400, message: 'Provided locale not found.'})});
        r = await attempt({group: {name: 'y'}, localeName: 'xx_XX',
                           apiBase: API});
        t.same([r.name, r.status, r.code, r.message, r.errors.length],
               ['ServerError', 207, '5002',
                'Wrong group name.; Provided locale not found.', 2],
               'a 207 with several errors is one ServerError listing them');
        api.answer({status: 502, contentType: 'text/html',
                    body: '<html>Bad Gateway</html>'});
        r = await attempt({group: {name: 'z'}, apiBase: API});
        t.same([r.name, r.status, r.code], ['ServerError', 502, null],
               'a non-JSON error is a ServerError too');
        t.like(r.message, /HTTP 502/, '... naming the status');
        api.take();

        // --- renewal and recovery -------------------------------------------
        api.answer(api.created({data: {attributes: {}}},
                               '2000-01-01T00:00:00+00:00'));
        const old = await attempt({group: {name: 'soon'}, apiBase: API});
        api.take();
        const renewed = await attempt({group: {name: 'soon'}, apiBase: API});
        reqs = api.take();
        t.same(reqs.map((q) => [q.method, q.path]),
               [['DELETE', API + '/push-notification-subscriptions/'
                 + old.uuid],
                ['POST', API + '/push-notification-subscriptions']],
               'a subscription whose expiredAt is near is replaced');
        t.ok(renewed.uuid && renewed.uuid !== old.uuid, '... by a new uuid');
        await page.evaluate(() => WebPush.unsubscribe({group: {name: 'soon'}}));
        api.take();

        // the server knows the browser subscription, the page forgot the uuid
        await page.evaluate(() => localStorage.removeItem('webpush'));
        await page.evaluate(() => new Promise((resolve) => {
            const o = indexedDB.open('webpush', 1);
            o.onsuccess = () => {
                const tx = o.result.transaction('kv', 'readwrite');
                tx.objectStore('kv').delete('state');
                tx.oncomplete = () => { o.result.close(); resolve(); };
            };
        }));
        api.answer({status: 400, body: errorDoc({
            code: '5003', status: 400,
            message: 'Push notification subscription already exists.'})});
        made.length = 0;
        r = await attempt({group: {name: 'news', identifier: '7'},
                           apiBase: API});
        reqs = api.take();
        t.same([reqs.length, made.length, reqs[0].body.data.attributes.payload
                .endpoint === endpoint, reqs[1].body.data.attributes.payload
                .endpoint === endpoint],
               [2, 1, true, false],
               'a duplicate (5003) for a forgotten uuid re-subscribes the'
               + ' browser and POSTs the new subscription');
        t.like(r.uuid, /^0{8}-/, '... and resolves to its uuid');

        t.same(await page.evaluate(() => WebPush.unsubscribe()), [r.uuid],
               'unsubscribe() deletes every stored subscription');
        t.same(api.take().map((q) => q.method), ['DELETE'], '... on the server');
        s = await page.evaluate(() => WebPush.status());
        t.same([s.subscribed, s.uuid, s.endpoint], [false, null, null],
               '... and in the browser');

        // --- the demo page -------------------------------------------------
        await page.reload();
        await page.evaluate((a) => WebPush.configure({apiBase: a}), API);
        await page.fill('#group-name', 'demo');
        await page.click('#subscribe');
        await page.waitForSelector('body[data-state=subscribed]');
        const uuid = await page.textContent('#uuid');
        t.like(uuid, /^00000000-0000-5000-8000-\d{12}$/,
               'the demo page subscribes and shows the uuid');
        t.is(await page.textContent('#status'), 'Subscribed.',
             '... and says so');
        fs.mkdirSync(SCREENSHOT_DIR, {recursive: true});
        const shot = path.join(SCREENSHOT_DIR, 'demo-kit-subscribed.png');
        await page.screenshot({path: shot, fullPage: true});
        t.ok(fs.statSync(shot).size > 1000, 'screenshot ' + shot);

        await page.click('#unsubscribe');
        await page.waitForSelector('body[data-state=unsubscribed]');
        t.is(await page.textContent('#uuid'), '–',
             'the demo page unsubscribes');

        api.answer({status: 404, body: errorDoc({
            code: '5001', status: 404,
            message: 'The push notification provider was not found.'})});
        await page.fill('#provider', 'nope');
        await page.click('#subscribe');
        await page.waitForSelector('#error:not([hidden])');
        t.is(await page.textContent('#error'),
             'ServerError: The push notification provider was not found.'
             + ' (code 5001)', 'the demo page shows the server\'s error');
        api.take();

        // --- pushsubscriptionchange, run in the worker ----------------------
        await page.fill('#provider', 'web-push-php');
        await page.click('#subscribe');
        await page.waitForSelector('body[data-state=subscribed]');
        const before = await page.textContent('#uuid');
        api.take();
        const worker = context.serviceWorkers()[0]
            || await context.waitForEvent('serviceworker');
        const fresh = madeUpSubscription();
        const state = await worker.evaluate(
            (sub) => webpushResubscribe(null, sub), fresh);
        reqs = api.take();
        t.same(reqs.map((q) => [q.method, q.path,
                                q.body ? q.body.data.attributes.payload.endpoint : null]),
               [['POST', API + '/push-notification-subscriptions',
                 fresh.endpoint],
                ['DELETE', API + '/push-notification-subscriptions/' + before,
                 null]],
               'on pushsubscriptionchange the worker POSTs the new'
               + ' subscription, then DELETEs the old uuid');
        const after = state.records[0].uuid;
        t.ok(after && after !== before, 'the worker stores the new uuid');
        t.is(await waitFor(() => page.evaluate(() => {
            const l = JSON.parse(localStorage.getItem('webpush'));
            return l.records[0].uuid;
        }).then((u) => u === after && u), {what: 'the page to learn it'}),
             after, 'the open page learns it (postMessage → localStorage)');

        // --- Safari's Declarative Web Push: window.pushManager -------------
        // Chromium has none: a stand-in forwards to the (fake) PushManager,
        // so what matters is which one the kit calls and that it registers
        // no service worker
        const safari = await context.newPage();
        await safari.addInitScript(() => {
            window.webpushWindowCalls = [];
            window.pushManager = {
                subscribe(o) {
                    window.webpushWindowCalls.push('subscribe');
                    return PushManager.prototype.subscribe.call(null, o);
                },
                getSubscription() {
                    window.webpushWindowCalls.push('getSubscription');
                    return PushManager.prototype.getSubscription.call(null);
                },
            };
        });
        await safari.goto(BASE_URL + '/');
        await safari.evaluate(async () => {
            const regs = await navigator.serviceWorker.getRegistrations();
            for (const reg of regs) {
                await reg.unregister();
            }
            localStorage.clear();
            await new Promise((resolve) => {
                const d = indexedDB.deleteDatabase('webpush');
                d.onsuccess = d.onerror = d.onblocked = resolve;
            });
        });
        api.take();
        const dwp = await safari.evaluate(async (a) => {
            const uuid = await WebPush.subscribe({
                group: {name: 'safari', identifier: '1'}, apiBase: a});
            const s = await WebPush.status({apiBase: a});
            return {uuid, declarative: s.declarative, subscribed: s.subscribed,
                    isDeclarative: WebPush.isDeclarative(),
                    calls: window.webpushWindowCalls,
                    workers: (await navigator.serviceWorker
                        .getRegistrations()).length};
        }, API);
        reqs = api.take();
        t.same([dwp.declarative, dwp.subscribed, dwp.isDeclarative,
                dwp.calls.includes('subscribe'), dwp.workers],
               [true, true, true, true, 0],
               'with window.pushManager the kit subscribes through it and'
               + ' registers no service worker', dwp);
        t.same(reqs.map((q) => [q.method, q.body.data.attributes.group.name,
                                /^https:/.test(q.body.data.attributes
                                    .payload.endpoint)]),
               [['POST', 'safari', true]],
               '... and POSTs that subscription', reqs);
        const viaWorker = await safari.evaluate(async (a) => {
            await WebPush.unsubscribe({apiBase: a});
            window.webpushWindowCalls.length = 0;
            await WebPush.subscribe({group: {name: 'sw', identifier: '1'},
                                     apiBase: a, declarative: false});
            return {calls: window.webpushWindowCalls.length,
                    workers: (await navigator.serviceWorker
                        .getRegistrations()).length};
        }, API);
        t.same(viaWorker, {calls: 0, workers: 1},
               'declarative: false → through the service worker instead');
        api.take();
        await safari.close();
    } finally {
        await browser.close();
    }
});
