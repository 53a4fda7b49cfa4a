// Engagement through the real service worker: the module sends a
// notification to a subscription made by web-push-testing (a push
// service peer that decrypts), so the payload carries the module's
// "webpushEvent" token; what arrived is handed to Chromium's worker
// (client/webpush-sw.js) as the push service would (DevTools
// ServiceWorker.deliverPushMessage); the worker shows it and reports
// "shown" to /webpush/events (its default), and a real click on
// Chromium's notification popup (Xvfb + xdotool, see click.test.js)
// reports "clicked", one on its close button "closed". Each is read back
// from GET /api/push-notifications/{uuid} ("engagement"), the counts the
// module stored in PostgreSQL; a report repeated counts once, a forged
// token not at all. Last, the worker registered as
// /webpush-sw.js?eventsUrl=... reports there instead.
//
// Without Xvfb and xdotool the browser runs headless and the clicks are
// skipped. Skipped as a whole, with the reason, while the module's
// locations are not served.
//
//   WEBPUSH_BASE_URL=http://127.0.0.1:8080 WPT_PORT=8090 \
//       node t/browser/engagement.test.js

'use strict';

const crypto = require('node:crypto');
const {run} = require('./lib/tap');
const {BASE_URL, checkEnvironment, launch, requireNode, serviceWorkerCdp,
       startXvfb, waitFor} = require('./lib/browser');
const {screenProblem, windows, newPopup, clickBody,
       clickClose} = require('./lib/xdotool');

const SCOPE = BASE_URL + '/';
const API = BASE_URL + '/api';
const EVENTS = BASE_URL + '/webpush/events';
const JSONAPI = 'application/vnd.api+json';
const PROVIDER = 'web-push-php';
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

// nginx's own 404 page: the location is not configured
function notServed(r) {
    return r.status === 404 && !(r.doc && Array.isArray(r.doc.errors));
}

run(async (t) => {
    checkEnvironment(t);

    const probes = [
        ['POST', EVENTS, 'webpush_events'],
        ['POST', API + '/push-notifications', 'webpush_notifications'],
        ['POST', API + '/push-notification-subscriptions',
         'webpush_subscriptions'],
    ];
    for (const [method, url, directive] of probes) {
        const r = await call(method, url, {});
        if (notServed(r)) {
            t.skipAll(method + ' ' + url + ' answered 404 without a JSON:API'
                      + ' body: the ' + directive + ' location is not'
                      + ' configured' + NOTE);
        }
    }
    const screen = screenProblem();

    let r = await call('POST', API + '/push-notification-providers', {
        data: {type: 'push-notification-providers',
               attributes: {name: PROVIDER}},
    });
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
    model.notifyUrl = 'http://127.0.0.1:' + WPT_PORT + '/notify/';

    let xvfb = null;
    let browser;
    try {
        // --- a subscription at web-push-testing, stored by the module ------
        const key = (await call('GET', BASE_URL + '/webpush/vapid-public-key'))
            .doc.publicKey;
        const sub = await model.subscribe({userVisibleOnly: 'true',
                                           applicationServerKey: key});
        const group = {name: 'engagement-test',
                       identifier: crypto.randomBytes(6).toString('hex')};
        r = await call('POST', API + '/push-notification-subscriptions', {
            data: {type: 'push-notification-subscriptions', attributes: {
                providerName: PROVIDER, group,
                payload: {endpoint: sub.endpoint, keys: sub.keys}}},
        });
        t.is(r.status, 201, 'the module stores a web-push-testing'
             + ' subscription') || t.diag(r.text);

        // --- the browser and its worker ------------------------------------
        if (!screen) {
            xvfb = await startXvfb();
        }
        browser = await launch(xvfb ? {
            headless: false,
            // no session bus: Chromium uses its own notification popups
            env: {DISPLAY: xvfb.display, DBUS_SESSION_BUS_ADDRESS: 'disabled:'},
            args: ['--window-position=0,0', '--window-size=900,700'],
        } : {});
        const {context} = browser;
        await context.grantPermissions(['notifications'], {origin: BASE_URL});
        const page = context.pages()[0] || await context.newPage();
        const sw = await serviceWorkerCdp(context, page);
        await page.goto(SCOPE);
        await page.evaluate(async () => {
            await navigator.serviceWorker.register('/webpush-sw.js');
            await navigator.serviceWorker.ready;
            window.webpushShown = 0;
            navigator.serviceWorker.addEventListener('message', (e) => {
                if (e.data && e.data.type === 'webpush:notification') {
                    window.webpushShown++;
                }
            });
        });
        // what the worker reports, seen from the browser's side
        const reports = [];
        context.on('request', (req) => {
            if (req.url() === EVENTS) {
                reports.push(req.postData());
            }
        });

        // --- a notification through the module ----------------------------
        const target = SCOPE + 'index.html?from=engagement';
        const content = {title: 'Engagement', body: 'Shown, then clicked',
                         url: target, tag: 'engagement-test',
                         requireInteraction: true};
        r = await call('POST', API + '/push-notifications', {
            data: {type: 'push-notifications', attributes: {
                providerName: PROVIDER, group, payload: content}},
        });
        t.is(r.status, 201, 'POST /api/push-notifications → 201')
            || t.diag(r.text);
        const uuid = r.doc && r.doc.data && r.doc.data.id;
        const get = async () => {
            const g = await call('GET', API + '/push-notifications/' + uuid);
            return g.doc && g.doc.data && g.doc.data.attributes;
        };
        const sent = await waitFor(async () => {
            const a = await get();
            return a && a.delivery.pending === 0 && a.delivery.targeted > 0
                && a;
        }, {timeoutMs: 30000, intervalMs: 250, what: 'the delivery'});
        t.same([sent.delivery.sent, sent.engagement],
               [1, {shown: 0, clicked: 0, closed: 0}],
               'sent; nothing reported yet');

        const messages = model.getNotifications({
            clientHash: sub.clientHash}).messages;
        const payload = JSON.parse(messages[0] || 'null') || {};
        const token = payload.webpushEvent;
        t.like(token, /^[A-Za-z0-9_-]{44}$/,
               'the decrypted payload carries a webpushEvent token');
        delete payload.webpushEvent;
        t.same(payload, content, '... and otherwise what was posted');

        // --- shown -----------------------------------------------------------
        const before = new Set(xvfb ? windows(xvfb.display).map((w) => w.id)
                                    : []);
        await sw.push(SCOPE, messages[0]);
        await waitFor(() => page.evaluate(() => window.webpushShown > 0),
                      {what: 'the worker to show the notification'});
        t.ok(true, 'the worker shows the notification');
        const shown = await waitFor(async () => {
            const a = await get();
            return a && a.engagement.shown > 0 && a.engagement;
        }, {timeoutMs: 20000, intervalMs: 250,
            what: 'the module to count it shown'}).catch((e) => e.message);
        t.same(shown, {shown: 1, clicked: 0, closed: 0},
               'the worker reported "shown": the module counts it');
        t.same(reports.map((b) => JSON.parse(b)),
               [{type: 'shown', event: token}],
               'the report the worker POSTed to /webpush/events');

        // --- clicked ---------------------------------------------------------
        if (!xvfb) {
            t.skip(screen, 'a click reports "clicked"', 2);
        } else {
            const opened = context.waitForEvent('page', {timeout: 15000});
            const popup = await waitFor(() => newPopup(xvfb.display, before),
                                        {what: 'the notification popup'});
            clickBody(xvfb.display, popup);
            const newPage = await opened;
            await newPage.waitForLoadState();
            t.is(newPage.url(), target, 'a click opens the notification\'s'
                 + ' url');
            const clicked = await waitFor(async () => {
                const a = await get();
                return a && a.engagement.clicked > 0 && a.engagement;
            }, {timeoutMs: 20000, intervalMs: 250,
                what: 'the module to count the click'})
                .catch((e) => e.message);
            t.same(clicked, {shown: 1, clicked: 1, closed: 0},
                   'the worker reported "clicked": the module counts it');
        }

        // --- a token altered by one bit in the browser ----------------------
        const forged = Buffer.from(token, 'base64url');
        forged[5] ^= 1;
        const res = await page.evaluate(async ([url, event]) => {
            const x = await fetch(url, {method: 'POST', body:
                JSON.stringify({type: 'closed', event})});
            return [x.status, (await x.json()).errors[0].code];
        }, [EVENTS, forged.toString('base64url')]);
        t.same(res, [400, '5400'], 'a forged token → 400 / 5400');
        t.same((await get()).engagement.closed, 0, '... and counts nothing');

        // --- the same message again (a push service may redeliver) ---------
        const seen = reports.length;
        const again = new Set(xvfb ? windows(xvfb.display).map((w) => w.id)
                                   : []);
        await sw.push(SCOPE, messages[0]);
        await waitFor(() => page.evaluate(() => window.webpushShown > 1),
                      {what: 'the worker to show it again'});
        await waitFor(() => reports.length > seen,
                      {what: 'the worker to report it again'});
        // the report is under way: once the module has answered one of
        // ours, a count that went wrong would be 2 already
        await waitFor(async () => {
            const x = await fetch(EVENTS, {method: 'POST', body:
                JSON.stringify({type: 'shown', event: token})});
            return x.status === 204;
        }, {what: 'a report of our own'});
        t.same((await get()).engagement,
               {shown: 1, clicked: xvfb ? 1 : 0, closed: 0},
               'shown again: reported again, counted once');

        // --- closed ----------------------------------------------------------
        if (!xvfb) {
            t.skip(screen, 'closing it reports "closed"', 1);
        } else {
            const popup = await waitFor(() => newPopup(xvfb.display, again),
                                        {what: 'the notification popup'});
            await clickClose(xvfb.display, popup);
            const closed = await waitFor(async () => {
                const a = await get();
                return a && a.engagement.closed > 0 && a.engagement;
            }, {timeoutMs: 20000, intervalMs: 250,
                what: 'the module to count it closed'})
                .catch((e) => e.message);
            t.same(closed, {shown: 1, clicked: 1, closed: 1},
                   'the user closes it: the worker reported "closed", the'
                   + ' module counts it');
        }
        // (DevTools may tell of a worker's request after the module
        // answered it)
        const mine = () => reports.map((b) => JSON.parse(b))
            .filter((x) => x.event === token).map((x) => x.type);
        const want = xvfb ? ['shown', 'clicked', 'shown', 'closed']
                          : ['shown', 'shown'];
        await waitFor(() => mine().length >= want.length,
                      {what: 'the browser to tell of every report'})
            .catch(() => null);
        t.same(mine(), want, 'the reports the worker sent, in order');

        // --- a declarative payload, rendered by the worker, reports too ----
        r = await call('POST', API + '/push-notifications', {
            data: {type: 'push-notifications', attributes: {
                providerName: PROVIDER, group, payload: {
                    web_push: 8030, notification: {
                        title: 'Declarative', tag: 'engagement-declarative',
                        navigate: 'https://shop.example/orders/42'}}}},
        });
        t.is(r.status, 201, 'a declarative notification → 201')
            || t.diag(r.text);
        const declarative = r.doc && r.doc.data && r.doc.data.id;
        const getD = async () => {
            const g = await call('GET', API + '/push-notifications/'
                                 + declarative);
            return g.doc && g.doc.data && g.doc.data.attributes;
        };
        await waitFor(async () => {
            const a = await getD();
            return a && a.delivery.sent === 1;
        }, {timeoutMs: 30000, intervalMs: 250, what: 'its delivery'});
        const all = model.getNotifications({clientHash: sub.clientHash})
            .messages;
        const message = all[all.length - 1];
        const shownBefore = await page.evaluate(() => window.webpushShown);
        await sw.push(SCOPE, message);
        await waitFor(() => page.evaluate((n) => window.webpushShown > n,
                                          shownBefore),
                      {what: 'the worker to show the declarative one'});
        const engagementD = await waitFor(async () => {
            const a = await getD();
            return a && a.engagement.shown > 0 && a.engagement;
        }, {timeoutMs: 20000, intervalMs: 250,
            what: 'the module to count it shown'}).catch((e) => e.message);
        t.same(engagementD, {shown: 1, clicked: 0, closed: 0},
               'the worker rendered the declarative payload and reported'
               + ' "shown" with its token');

        // --- another events URL: ?eventsUrl= on the worker's script URL ---
        const other = BASE_URL + '/other/events';
        const script = await page.evaluate(async () => {
            const url = '/webpush-sw.js?eventsUrl=%2Fother%2Fevents';
            const r = await navigator.serviceWorker.register(url);
            const end = Date.now() + 20000;
            while (!(r.active && r.active.scriptURL.endsWith(url))
                   && Date.now() < end) {
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return r.active && r.active.scriptURL;
        });
        t.is(script, BASE_URL + '/webpush-sw.js?eventsUrl=%2Fother%2Fevents',
             'the worker registered again with ?eventsUrl= is active');
        const elsewhere = [];
        context.on('request', (req) => {
            if (req.url() === other) {
                elsewhere.push(JSON.parse(req.postData()));
            }
        });
        await sw.push(SCOPE, messages[0]);
        const got = await waitFor(() => elsewhere.length > 0 && elsewhere,
                                  {timeoutMs: 20000,
                                   what: 'a report to ' + other})
            .catch((e) => e.message);
        t.same(got, [{type: 'shown', event: token}],
               'it reports to the URL its script URL names');
    } finally {
        if (browser) {
            await browser.close();
        }
        if (xvfb) {
            xvfb.stop();
        }
        pushServer._server.close();
    }
});
