// The whole subscribe flow against the module's real endpoints: the demo
// page, the real permission grant, the real POST to
// /api/push-notification-subscriptions, the row in PostgreSQL, the uuid in
// the page's storage; then, when /api/push-notifications exists, the
// module's delivery to web-push-testing (a push service peer that decrypts
// with the subscription's keys), and the unsubscribe DELETE.
//
// Only PushManager.prototype.subscribe/getSubscription are replaced (see
// lib/fake-push.js): they hand out a subscription made by web-push-testing,
// because Chromium's own push service is out of reach.
//
// Skipped, with the reason, while the endpoints are not served (404 without
// a JSON:API body: the location is not configured, e.g. the module has no
// webpush_subscriptions directive yet).
//
//   WEBPUSH_BASE_URL=http://127.0.0.1:8080 WPT_PORT=8090 \
//       node t/browser/subscribe.test.js

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {execFileSync} = require('node:child_process');
const {run} = require('./lib/tap');
const {BASE_URL, SCREENSHOT_DIR, checkEnvironment, launch, requireNode,
       serviceWorkerCdp, waitFor} = require('./lib/browser');
const {installFakePush} = require('./lib/fake-push');

const API = BASE_URL + '/api';
const JSONAPI = 'application/vnd.api+json';
const PROVIDER = 'web-push-php';
const GROUP = {name: 'browser-test', identifier: '1'};
const WPT_PORT = Number(process.env.WPT_PORT || 8090);
const NOTE = process.env.WEBPUSH_API_NOTE
    ? ' (' + process.env.WEBPUSH_API_NOTE + ')' : '';

async function call(method, url, body) {
    const res = await fetch(url, {
        method,
        headers: body === undefined ? {Accept: JSONAPI}
            : {Accept: JSONAPI, 'Content-Type': JSONAPI},
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let doc = null;
    try {
        doc = text ? JSON.parse(text) : null;
    } catch (e) {
        doc = null;
    }
    return {status: res.status, doc, text};
}

// the answer of a location that is not there: nginx's own 404 page
function notServed(r) {
    return r.status === 404 && !(r.doc && Array.isArray(r.doc.errors));
}

function psql(sql) {
    const conninfo = process.env.TEST_PG_CONNINFO;
    if (!conninfo) {
        return null;
    }
    return execFileSync('psql', [conninfo, '-X', '-At', '-c', sql])
        .toString().trim();
}

// a decrypted payload without the engagement token the module adds when it
// has a webpush_events location (engagement.test.js checks that one)
function withoutToken(text) {
    const json = JSON.parse(text);
    if (json && typeof json.webpushEvent === 'string') {
        delete json.webpushEvent;
    }
    return json;
}

// requests a page has under way, to tell what it waits for
const pending = new Map();
function track(page) {
    page.on('request', (r) => pending.set(r, Date.now()));
    page.on('requestfinished', (r) => pending.delete(r));
    page.on('requestfailed', (r) => pending.delete(r));
}

// what the kit depends on, each answer within 3 s (runs in the page)
async function probe() {
    const within = (p) => Promise.race([
        p.then((v) => v, (e) => 'error: ' + e),
        new Promise((r) => setTimeout(() => r('no answer'), 3000)),
    ]);
    const sw = navigator.serviceWorker;
    return {
        permission: Notification.permission,
        registrations: await within(sw.getRegistrations().then((rs) => rs.map(
            (r) => [r.scope, r.active && r.active.state,
                    !!r.installing, !!r.waiting]))),
        register: await within(sw.register('/webpush-sw.js').then(() => 'ok')),
        indexedDB: await within(new Promise((resolve, reject) => {
            const o = indexedDB.open('webpush', 1);
            o.onsuccess = () => { o.result.close(); resolve('ok'); };
            o.onerror = () => reject(o.error);
            o.onblocked = () => resolve('blocked');
        })),
        getSubscription: await within(sw.ready.then(
            (r) => r.pushManager.getSubscription()).then((x) => !!x)),
    };
}

// waits for a selector; on a timeout, says what the page shows
// (longer than the kit's own 30 s timeout, so that its error shows)
async function waitShown(t, page, selector) {
    try {
        return await page.waitForSelector(selector, {timeout: 45000});
    } catch (e) {
        t.diag('requests under way: ' + JSON.stringify(
            [...pending].map(([r, at]) => [r.method(), r.url(),
                                           (Date.now() - at) + ' ms'])));
        t.diag('the browser: ' + JSON.stringify(await page.evaluate(probe)
                                                 .catch((x) => String(x))));
        t.diag('waiting for ' + selector + ': the page says '
               + JSON.stringify(await page.evaluate(() => ({
                   state: document.body.dataset.state,
                   status: (document.getElementById('status')
                            || document.getElementById('send-status')
                            || {}).textContent,
                   error: document.getElementById('error').textContent,
               })).catch(() => null)));
        throw e;
    }
}

run(async (t) => {
    checkEnvironment(t);

    const probe = await call('POST', API + '/push-notification-subscriptions',
                             {});
    if (notServed(probe)) {
        t.skipAll('POST /api/push-notification-subscriptions answered 404'
                  + ' without a JSON:API body: the webpush_subscriptions'
                  + ' location is not configured' + NOTE);
    }
    t.same([probe.status, probe.doc && probe.doc.errors
            && probe.doc.errors[0].code], [400, '5400'],
           'the subscriptions endpoint is served (an empty body → 400/5400)');

    let r = await call('POST', API + '/push-notification-providers', {
        data: {type: 'push-notification-providers', attributes: {name: PROVIDER}},
    });
    if (notServed(r)) {
        t.skipAll('POST /api/push-notification-providers answered 404: the'
                  + ' webpush_providers location is not configured, and the'
                  + ' flow needs a provider' + NOTE);
    }
    t.ok(r.status === 201 || (r.status === 400 && r.doc.errors[0].code
                              === '5008'),
         'the provider ' + PROVIDER + ' exists', r.text);

    // web-push-testing in this process: the push service of the test
    const {PushApiModel} = requireNode('web-push-testing/src/PushApiModel.js');
    const PushServer = requireNode('web-push-testing/src/server.js');
    const model = new PushApiModel();
    const pushServer = new PushServer(model, WPT_PORT);
    const log = console.log;
    console.log = () => {};         // it announces itself on stdout (TAP)
    pushServer.startServer();
    console.log = log;
    // an address, not "localhost": the module needs no resolver for it
    model.notifyUrl = 'http://127.0.0.1:' + WPT_PORT + '/notify/';
    const clientHashes = new Map();

    const browser = await launch();
    try {
        const {context} = browser;
        await installFakePush(context, async (options) => {
            t.note('web-push-testing subscribes the page at '
                   + new Date().toISOString());
            const sub = await model.subscribe({
                userVisibleOnly: String(options.userVisibleOnly),
                applicationServerKey: options.applicationServerKey,
            });
            clientHashes.set(sub.endpoint, sub.clientHash);
            return {endpoint: sub.endpoint, keys: sub.keys};
        });
        await context.grantPermissions(['notifications'], {origin: BASE_URL});
        const page = await context.newPage();
        track(page);
        const sw = await serviceWorkerCdp(context, page);
        await page.goto(BASE_URL + '/');

        await page.fill('#provider', PROVIDER);
        await page.fill('#group-name', GROUP.name);
        await page.fill('#group-identifier', GROUP.identifier);
        await page.click('#subscribe');
        await waitShown(t, page, 'body[data-state=subscribed], '
                                   + '#error:not([hidden])');
        const error = await page.$eval('#error', (e) => (e.hidden ? null
                                                          : e.textContent));
        t.is(error, null, 'the demo page subscribes without error');
        const uuid = await page.textContent('#uuid');
        t.like(uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
               'it shows the uuid the module returned');
        const local = await page.evaluate(
            () => JSON.parse(localStorage.getItem('webpush')));
        t.same(local && local.records.map((x) => x.uuid), [uuid],
               'the uuid is stored in localStorage');
        t.like(local && local.records[0].expiredAt || '', /^\d{4}-\d\d-\d\dT/,
               'with the expiredAt the module returned');
        const endpoint = local && local.endpoint;
        t.ok(clientHashes.has(endpoint),
             'the subscription posted is the one web-push-testing made');

        fs.mkdirSync(SCREENSHOT_DIR, {recursive: true});
        const shot = path.join(SCREENSHOT_DIR, 'demo-subscribed.png');
        await page.screenshot({path: shot, fullPage: true});
        t.ok(fs.statSync(shot).size > 1000, 'screenshot ' + shot);

        const row = psql("SELECT payload FROM spy_push_notification_subscription"
                         + " WHERE uuid = '" + uuid + "'");
        if (row === null) {
            t.skip('TEST_PG_CONNINFO is not set', 'the row is in PostgreSQL');
        } else {
            let payload = null;
            try {
                payload = JSON.parse(row);
            } catch (e) {
                payload = row;
            }
            t.is(payload && payload.endpoint, endpoint,
                 'the row in spy_push_notification_subscription holds the'
                 + ' subscription');
        }

        // --- a notification through the module to web-push-testing --------
        const content = {title: 'From nginx', body: 'Sent by the module',
                         url: '/?from=push', tag: 'browser-test'};
        r = await call('POST', API + '/push-notifications', {
            data: {type: 'push-notifications', attributes: {
                providerName: PROVIDER, group: GROUP, payload: content}},
        });
        if (notServed(r)) {
            t.skip('POST /api/push-notifications answered 404: the'
                   + ' webpush_notifications location is not configured'
                   + NOTE, 'a notification is delivered and decrypted', 3);
        } else {
            t.is(r.status, 201, 'POST /api/push-notifications → 201')
                || t.diag(r.text);
            const id = r.doc && r.doc.data && r.doc.data.id;
            const delivery = await waitFor(async () => {
                const g = await call('GET', API + '/push-notifications/' + id);
                const d = g.doc && g.doc.data && g.doc.data.attributes.delivery;
                return d && d.pending === 0 && d.targeted > 0 && d;
            }, {timeoutMs: 30000, intervalMs: 250,
                what: 'the delivery to finish'}).catch((e) => e.message);
            t.same(delivery && delivery.sent, 1,
                   'GET /api/push-notifications/{uuid} counts it sent', delivery);
            const messages = model.getNotifications({
                clientHash: clientHashes.get(endpoint)}).messages;
            t.same(messages.map(withoutToken), [content],
                   'web-push-testing received and decrypted the payload');
            // hand what arrived to the browser's worker, as the push service
            // would, and see it shown
            await page.evaluate(async () => {
                await navigator.serviceWorker.ready;
                window.webpushShown = 0;
                navigator.serviceWorker.addEventListener('message', (e) => {
                    window.webpushShown++;
                });
            });
            await sw.push(BASE_URL + '/', messages[0] || '');
            await waitFor(() => page.evaluate(() => window.webpushShown > 0),
                          {what: 'the worker to show it'});
            t.same(await page.evaluate(async () => {
                const reg = await navigator.serviceWorker.ready;
                return (await reg.getNotifications())
                    .map((n) => [n.title, n.body, n.data.url]);
            }), [[content.title, content.body, BASE_URL + '/?from=push']],
                   'the worker shows it');
        }

        // --- the admin page --------------------------------------------------
        if (notServed(r)) {
            t.skip('the webpush_notifications location is not configured'
                   + NOTE, 'the admin page sends a notification', 1);
        } else {
            const admin = await context.newPage();
            await admin.goto(BASE_URL + '/admin.html');
            await admin.waitForSelector('#providers td');
            t.ok((await admin.$$eval('#providers tr td:first-child',
                                     (tds) => tds.map((td) => td.textContent)))
                     .includes(PROVIDER), 'the admin page lists the providers');
            const extra = 'admin-test-' + Date.now();
            await admin.fill('#provider-name', extra);
            await admin.click('#provider-form button[type=submit]');
            await admin.waitForFunction((n) => [...document.querySelectorAll(
                '#send-provider option')].some((o) => o.value === n), extra);
            t.ok(true, 'it creates a provider and offers it for sending');
            await admin.fill('#provider-name', extra);
            await admin.click('#provider-form button[type=submit]');
            await waitShown(t, admin, '#error:not([hidden])');
            t.like(await admin.textContent('#error'), /\(code 5008\)/,
                   'a duplicate provider name shows the module\'s error');

            await admin.selectOption('#send-provider', PROVIDER);
            await admin.fill('#send-group', GROUP.name);
            await admin.fill('#send-identifier', GROUP.identifier);
            await admin.fill('#send-title', 'From the admin page');
            await admin.click('#send-form button[type=submit]');
            await admin.waitForFunction(() => /^Done/.test(
                document.getElementById('send-status').textContent),
                                        null, {timeout: 30000});
            t.same(await admin.$$eval('.legend output', (os) => [
                'targeted', 'sent', 'pending', 'failed', 'gone'].map(
                (k) => os.find((o) => o.dataset.series === k).textContent)),
                   ['1', '1', '0', '0', '0'],
                   'it sends to the group and shows the delivery counts'
                   + ' (targeted, sent, pending, failed, gone)');
            t.like(await admin.textContent('#notification-uuid'),
                   /^[0-9a-f-]{36}$/, '... and the notification\'s uuid');
            const got = model.getNotifications({
                clientHash: clientHashes.get(endpoint)}).messages;
            t.same(withoutToken(got[got.length - 1] || 'null'), {
                title: 'From the admin page', body: 'It works.',
                icon: '/icon.png', url: '/'},
                   'the push service got the admin page\'s notification');
            await admin.screenshot({path: path.join(SCREENSHOT_DIR,
                                                    'admin-sent.png'),
                                    fullPage: true});
            await admin.close();
        }

        // --- unsubscribe ----------------------------------------------------
        await page.click('#unsubscribe');
        await waitShown(t, page, 'body[data-state=unsubscribed]');
        t.is(await page.textContent('#uuid'), '–', 'the demo page unsubscribes');
        const count = psql('SELECT count(*) FROM'
                           + " spy_push_notification_subscription WHERE uuid = '"
                           + uuid + "'");
        if (count === null) {
            t.skip('TEST_PG_CONNINFO is not set', 'the row is deleted');
        } else {
            t.is(count, '0', 'the row is deleted');
        }
        r = await call('DELETE', API + '/push-notification-subscriptions/'
                                 + uuid);
        t.is(r.status, 404, 'deleting it again → 404');

        // --- a server error through the kit ---------------------------------
        await page.fill('#provider', 'no-such-provider');
        await page.click('#subscribe');
        await waitShown(t, page, '#error:not([hidden])');
        t.like(await page.textContent('#error'), /^ServerError: .*\(code 5001\)$/,
               'an unknown provider shows the module\'s 5001 error');
    } finally {
        await browser.close();
        pushServer._server.close();
    }
});
