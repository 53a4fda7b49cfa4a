// A real click on a notification shown by client/webpush-sw.js.
//
// Headless Chromium cannot do this: it displays no notification to click,
// the DevTools protocol has no command to click one, and a synthetic
// NotificationEvent dispatched inside the worker is untrusted (waitUntil
// throws, and clients.openWindow()/focus() are refused without the
// window-interaction allowance only a real click grants). So this test runs
// Chromium with a window on Xvfb: with no D-Bus notification daemon and
// native notifications off, Chromium shows its own notification popup as a
// small X window, which xdotool clicks like a user would.
//
//   WEBPUSH_BASE_URL=http://127.0.0.1:8080 node t/browser/click.test.js

'use strict';

const {run} = require('./lib/tap');
const {BASE_URL, checkEnvironment, launch, serviceWorkerCdp, waitFor,
       startXvfb} = require('./lib/browser');
const {screenProblem, windows, newPopup, clickBody} = require('./lib/xdotool');

const SCOPE = BASE_URL + '/';

run(async (t) => {
    checkEnvironment(t);
    if (screenProblem()) {
        t.skipAll(screenProblem());
    }
    const xvfb = await startXvfb();
    let browser;
    try {
        const display = xvfb.display;
        browser = await launch({
            headless: false,
            // no session bus: Chromium uses its own notification popups
            env: {DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: 'disabled:'},
            args: ['--window-position=0,0', '--window-size=900,700'],
        });
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

        // pushes, waits for the popup window and clicks its text area
        async function pushAndClick(payload) {
            const before = new Set(windows(display).map((w) => w.id));
            const shown = await page.evaluate(() => window.webpushShown);
            await sw.push(SCOPE, JSON.stringify(payload));
            await waitFor(() => page.evaluate((n) => window.webpushShown > n,
                                              shown),
                          {what: 'the worker to show the notification'});
            const popup = await waitFor(() => newPopup(display, before),
                                        {what: 'the notification popup'});
            clickBody(display, popup);
            return popup;
        }

        const target = SCOPE + 'index.html?from=notification';
        let opened = context.waitForEvent('page', {timeout: 10000});
        const popup = await pushAndClick({
            title: 'Click me', body: 'Opens the demo page', url: target,
            requireInteraction: true,
        });
        t.ok(popup, 'Chromium shows the notification as a popup window');
        const newPage = await opened;
        await newPage.waitForLoadState();
        t.is(newPage.url(), target,
             'a click opens a window on the notification\'s url');
        t.same(await page.evaluate(async () => {
            const r = await navigator.serviceWorker.ready;
            return (await r.getNotifications()).length;
        }), 0, 'the clicked notification is closed');

        // the same url again: the open window is focused, none is opened
        let extra = null;
        const onPage = (p) => { extra = p; };
        context.on('page', onPage);
        await pushAndClick({title: 'Again', url: target,
                            requireInteraction: true});
        await waitFor(() => page.evaluate(async () => {
            const r = await navigator.serviceWorker.ready;
            return (await r.getNotifications()).length === 0;
        }), {what: 'the second notification to be closed by the click'});
        await new Promise((r) => setTimeout(r, 1500));
        context.off('page', onPage);
        t.is(extra && extra.url(), null,
             'a click for a url already open opens no new window (it focuses'
             + ' that one)');
        t.is(context.pages().filter((p) => p.url() === target).length, 1,
             'one window shows the url');
    } finally {
        if (browser) {
            await browser.close();
        }
        xvfb.stop();
    }
});
