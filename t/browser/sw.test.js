// The service worker (client/webpush-sw.js) in headless Chromium: pushes
// delivered through the DevTools protocol (ServiceWorker.deliverPushMessage,
// what the push service would hand the browser) and the notifications the
// worker shows, read back with registration.getNotifications().
//
//   WEBPUSH_BASE_URL=http://127.0.0.1:8080 node t/browser/sw.test.js

'use strict';

const {run} = require('./lib/tap');
const {BASE_URL, checkEnvironment, launch, serviceWorkerCdp,
       waitFor} = require('./lib/browser');

const SCOPE = BASE_URL + '/';

run(async (t) => {
    checkEnvironment(t);
    const browser = await launch();
    try {
        const {context} = browser;
        await context.grantPermissions(['notifications'], {origin: BASE_URL});
        const page = await context.newPage();
        const sw = await serviceWorkerCdp(context, page);

        const res = await page.goto(SCOPE);
        t.is(res.status(), 200, 'the demo page loads');

        const reg = await page.evaluate(async () => {
            const r = await navigator.serviceWorker.register('/webpush-sw.js');
            await navigator.serviceWorker.ready;
            return {scope: r.scope, active: !!r.active,
                    permission: Notification.permission};
        });
        t.same(reg, {scope: SCOPE, active: true, permission: 'granted'},
               'webpush-sw.js registers with scope / and becomes active');
        await waitFor(() => page.evaluate(
            () => !!navigator.serviceWorker.controller),
                      {what: 'the worker to claim the page'});
        t.ok(true, 'the worker claims the open page');
        t.like(await sw.registrationId(SCOPE), /^\d+$/,
               'DevTools reports the registration id');

        // the notifications currently shown, oldest first. Chromium drops a
        // notification when getNotifications() runs while it is being
        // displayed, so this is called only after the worker said it is
        // shown (its 'webpush:notification' message).
        const shown = () => page.evaluate(async () => {
            const r = await navigator.serviceWorker.ready;
            return (await r.getNotifications()).map((n) => ({
                title: n.title, body: n.body, icon: n.icon, tag: n.tag,
                url: n.data && n.data.url,
            }));
        });
        const clear = () => page.evaluate(async () => {
            const r = await navigator.serviceWorker.ready;
            (await r.getNotifications()).forEach((n) => n.close());
        });
        await page.evaluate(() => {
            window.webpushShown = [];
            navigator.serviceWorker.addEventListener('message', (e) => {
                if (e.data && e.data.type === 'webpush:notification') {
                    window.webpushShown.push(e.data.title);
                }
            });
        });
        const messages = () => page.evaluate(() => window.webpushShown.length);
        async function pushAndWait(data) {
            const before = await messages();
            await sw.push(SCOPE, data);
            await waitFor(async () => (await messages()) > before,
                          {what: 'the worker to show ' + JSON.stringify(data)});
            return shown();
        }

        let list = await pushAndWait(JSON.stringify({
            title: 'Order shipped', body: 'Order 42 is on its way.',
            icon: '/icon.png', tag: 'order-42', url: '/orders/42',
        }));
        t.same(list, [{title: 'Order shipped', body: 'Order 42 is on its way.',
                       icon: BASE_URL + '/icon.png', tag: 'order-42',
                       url: BASE_URL + '/orders/42'}],
               'a JSON payload shows title, body, icon, tag and url');

        list = await pushAndWait(JSON.stringify({
            title: 'Order delivered', body: 'Order 42 arrived.', tag: 'order-42',
        }));
        t.same(list.map((n) => [n.title, n.tag, n.url]),
               [['Order delivered', 'order-42', SCOPE]],
               'the same tag replaces the notification; no url → the scope');
        await clear();

        list = await pushAndWait('Plain text, not JSON');
        t.same(list.map((n) => [n.title, n.body, n.url]),
               [['New notification', 'Plain text, not JSON', SCOPE]],
               'a text payload is the body under a generic title');
        await clear();

        list = await pushAndWait('');
        t.same(list.map((n) => [n.title, n.body]),
               [['New notification', '']],
               'an empty payload shows the generic title');
        await clear();

        list = await pushAndWait('{"ids": [7, 8], "entity": "picking-lists"}');
        t.same(list.map((n) => [n.title, n.body, n.url]),
               [['New notification', '', SCOPE]],
               'a JSON object without title gets the generic title');
        await clear();

        list = await pushAndWait('[1, 2]');
        t.same(list.map((n) => [n.title, n.body]),
               [['New notification', '[1, 2]']],
               'a JSON array is shown as text');
        await clear();

        list = await pushAndWait(JSON.stringify({
            web_push: 8030,
            notification: {title: 'Declarative', body: 'nested form',
                           navigate: 'https://example.com/d'},
        }));
        t.same(list.map((n) => [n.title, n.body, n.url]),
               [['Declarative', 'nested form', 'https://example.com/d']],
               'the declarative {"notification": {...}} form is understood');
        await clear();

        // Declarative Web Push as Safari renders it: actions with their own
        // navigate, dir, app_badge (navigator.setAppBadge where it exists:
        // it must not stop the notification where badges are refused)
        list = await pushAndWait(JSON.stringify({
            web_push: 8030, app_badge: 3,
            notification: {
                title: 'Order shipped', body: 'Order 42 is on its way',
                dir: 'rtl', lang: 'en-US', tag: 'order-42',
                icon: BASE_URL + '/icon.png',
                navigate: 'https://shop.example/orders/42',
                actions: [
                    {action: 'track', title: 'Track',
                     navigate: 'https://shop.example/track/42'},
                    {title: 'Help', navigate: 'https://help.shop.example/'},
                ],
            },
        }));
        const details = await page.evaluate(async () => {
            const r = await navigator.serviceWorker.ready;
            return (await r.getNotifications()).map((n) => ({
                title: n.title, body: n.body, dir: n.dir, lang: n.lang,
                tag: n.tag, icon: n.icon, url: n.data.url,
                actions: n.actions.map((a) => [a.action, a.title]),
                navigate: n.data.actions,
                badge: n.data.payload.app_badge,
            }));
        });
        t.same(details, [{
            title: 'Order shipped', body: 'Order 42 is on its way',
            dir: 'rtl', lang: 'en-US', tag: 'order-42',
            icon: BASE_URL + '/icon.png',
            url: 'https://shop.example/orders/42',
            actions: [['track', 'Track'], ['webpush-action-1', 'Help']],
            navigate: {'track': 'https://shop.example/track/42',
                       'webpush-action-1': 'https://help.shop.example/'},
            badge: 3,
        }], 'a declarative payload: title, body, dir, icon, navigate, '
            + 'actions with their navigate; app_badge does not get in the way');
        await clear();

        list = await pushAndWait(JSON.stringify({
            web_push: 8031, title: 'Not declarative',
            notification: {title: 'Nested', navigate: '/n'},
        }));
        t.same(list.map((n) => [n.title, n.url]),
               [['Nested', BASE_URL + '/n']],
               'another web_push value keeps the earlier nested reading');
        await clear();

        list = await pushAndWait(JSON.stringify({
            title: 'Sneaky', url: 'javascript:alert(1)',
        }));
        t.same(list.map((n) => [n.title, n.url]), [['Sneaky', SCOPE]],
               'a non-http(s) url is replaced by the scope');
        await clear();

        list = await pushAndWait(JSON.stringify({
            title: '  ', body: 42, icon: {}, url: 7,
        }));
        t.same(list.map((n) => [n.title, n.body, n.icon]),
               [['New notification', '42', '']],
               'wrongly typed fields fall back instead of failing');
        await clear();
    } finally {
        await browser.close();
    }
});
