// The admin page (client/admin.html) in Chromium against the module: a
// notification created through its form (payload helper, a payload per
// locale, sendAt a few seconds ahead, ttl, urgency, topic, ratePerMinute)
// to subscriptions whose endpoints are t/node/mock-push.js, watched by
// the page from "scheduled" through "sending" to "done"; the chart's and
// the legend's figures against GET /api/push-notifications/{uuid}; the
// push-service table against the mock's origin; a double click, the same
// form sent again, a second notification cancelled through the page; API
// errors next to the form; no console error from the page's scripts.
// Screenshots: build/screenshots/admin-{scheduled,progress,done,status}.png
// (the delivery and push-service sections), admin-page.png (the whole
// page, form filled in, while scheduled).
//
// Run by t/050-browser.t, which allows ADMIN_PUSH_PORT in
// webpush_push_hosts and serves webpush_status at /api/webpush-status.

'use strict';

const fs = require('node:fs');
const path = require('node:path');
const {execFileSync, spawn} = require('node:child_process');
const {run} = require('./lib/tap');
const {BASE_URL, TOP, SCREENSHOT_DIR, checkEnvironment, launch,
       waitFor} = require('./lib/browser');
const {UA_PUBLIC, UA_AUTH} = require('../node/lib/push-crypto');

const API = BASE_URL + '/api';
const JSONAPI = 'application/vnd.api+json';
const PUSH_PORT = Number(process.env.ADMIN_PUSH_PORT || 0);
const ORIGIN = 'http://127.0.0.1:' + PUSH_PORT;
const PROVIDER = 'admin-test';
const RUN = 'r' + Date.now().toString(36);
const GROUP = {name: 'admin-chart', identifier: RUN};
const NOTE = process.env.WEBPUSH_API_NOTE
    ? ' (' + process.env.WEBPUSH_API_NOTE + ')' : '';
// generous: the machine may be busy
const LONG = 120000;

// what each subscription's endpoint makes the mock answer
// (t/node/mock-push.js), and the outcome the module records
const SUBSCRIPTIONS = [
    {scenario: 'ok', locale: null},
    {scenario: 'ok', locale: 'de_DE'},
    {scenario: 'ok', locale: 'fr_FR'},      // no payload of its own
    {scenario: 'slow-2500', locale: null},  // answers late: "sending"
    {scenario: 'slow-5000', locale: 'de_DE'},
    {scenario: 'ratelimit-2', locale: null}, // 429 twice, then 201
    {scenario: 'gone', locale: null},       // 410
    {scenario: 'toolarge', locale: null},   // 413: failed
];
const EXPECTED = {targeted: 8, sent: 6, pending: 0, failed: 1, gone: 1,
                  cancelled: 0};
const DELIVERY = Object.keys(EXPECTED);
const ENGAGEMENT = ['shown', 'clicked', 'closed'];
const DEFAULT = {title: 'Campaign ' + RUN, body: 'For everyone.',
                 icon: '/icon.png', url: '/'};
const GERMAN = {title: 'Kampagne ' + RUN, body: 'Für alle.'};

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

// localizedPayloads reach subscriptions through spy_locale (README:
// a Spryker database's table; elsewhere locales are not stored)
function spyLocale() {
    execFileSync('psql', [process.env.TEST_PG_CONNINFO, '-X', '-q', '-c',
        'CREATE TABLE IF NOT EXISTS spy_locale (id_locale integer NOT NULL'
        + ' PRIMARY KEY, locale_name varchar(5) NOT NULL UNIQUE,'
        + ' is_active boolean);'
        + " INSERT INTO spy_locale VALUES (46, 'de_DE', 't'),"
        + " (47, 'fr_FR', 't') ON CONFLICT DO NOTHING"],
                 {stdio: ['ignore', 'ignore', 'inherit']});
}

function notServed(r) {
    return r.status === 404 && !(r.doc && Array.isArray(r.doc.errors));
}

async function mockLog() {
    const res = await fetch(ORIGIN + '/log');
    return (await res.json()).filter((r) => r.id && r.id.startsWith(RUN));
}

// the "datetime-local" value ms from now, in the browser's time zone
function localTime(page, ms) {
    return page.evaluate((ahead) => {
        const d = new Date(Date.now() + ahead);
        const p = (n) => String(n).padStart(2, '0');
        return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-'
               + p(d.getDate()) + 'T' + p(d.getHours()) + ':'
               + p(d.getMinutes()) + ':' + p(d.getSeconds());
    }, ms);
}

// the points "x y" of an SVG path made of M and L commands
function points(d) {
    return (d.match(/[ML][^ML]+/g) || []).map((s) => {
        const [x, y] = s.slice(1).trim().split(/\s+/).map(Number);
        return {x, y};
    });
}

run(async (t) => {
    checkEnvironment(t);
    if (!PUSH_PORT || !process.env.TEST_PG_CONNINFO) {
        t.skipAll('ADMIN_PUSH_PORT or TEST_PG_CONNINFO is not set:'
                  + ' t/050-browser.t under t/bin/with-postgres runs this'
                  + ' script with a push service port it allows');
    }
    let r = await call('GET', API + '/push-notifications/'
                              + '00000000-0000-4000-8000-000000000000');
    if (notServed(r)) {
        t.skipAll('GET /api/push-notifications/{uuid} answered 404 without'
                  + ' a JSON:API body: the webpush_notifications location is'
                  + ' not configured' + NOTE);
    }
    r = await call('POST', API + '/push-notification-providers', {
        data: {type: 'push-notification-providers',
               attributes: {name: PROVIDER}},
    });
    t.ok(r.status === 201 || (r.status === 400
                              && r.doc.errors[0].code === '5008'),
         'the provider ' + PROVIDER + ' exists', r.text);

    const mock = spawn(process.execPath,
                       [path.join(TOP, 't', 'node', 'mock-push.js'),
                        '--port', String(PUSH_PORT)],
                       {stdio: ['ignore', 'ignore', 'inherit']});
    let browser = null;
    try {
        await waitFor(() => fetch(ORIGIN + '/log').then((x) => x.ok,
                                                        () => false),
                      {timeoutMs: 15000, what: 'mock-push.js to answer'});

        spyLocale();
        const created = [];
        for (const [i, s] of SUBSCRIPTIONS.entries()) {
            r = await call('POST', API + '/push-notification-subscriptions', {
                data: {type: 'push-notification-subscriptions', attributes: {
                    providerName: PROVIDER, group: GROUP,
                    localeName: s.locale || undefined,
                    payload: {endpoint: ORIGIN + '/push/' + s.scenario + '/'
                                        + RUN + '-' + i,
                              keys: {p256dh: UA_PUBLIC, auth: UA_AUTH}},
                }},
            });
            created.push(r.status);
        }
        t.same(created, SUBSCRIPTIONS.map(() => 201),
               SUBSCRIPTIONS.length + ' subscriptions at the mock push'
               + ' service (' + ORIGIN + ')');

        browser = await launch();
        const page = await browser.context.newPage();
        const consoleErrors = [];
        page.on('console', (m) => {
            if (m.type() === 'error') {
                consoleErrors.push(m.text() + ' (' + m.location().url + ')');
            }
        });
        page.on('pageerror', (e) => consoleErrors.push('uncaught: '
                                                       + e.message));
        const posts = [];
        const deletes = [];
        page.on('request', (q) => {
            if (/\/api\/push-notifications(\/|$)/.test(q.url())) {
                if (q.method() === 'POST') {
                    posts.push({key: q.headers()['idempotency-key'],
                                body: JSON.parse(q.postData())});
                } else if (q.method() === 'DELETE') {
                    deletes.push(q.url());
                }
            }
        });
        const state = () => page.$eval('#notification',
                                       (e) => e.dataset.state);
        const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
        const legend = () => page.$$eval('.legend output', (os) =>
            Object.fromEntries(os.map((o) => [o.dataset.series,
                                              o.textContent])));
        fs.mkdirSync(SCREENSHOT_DIR, {recursive: true});
        const shot = async (name, selector) => {
            const file = path.join(SCREENSHOT_DIR, 'admin-' + name + '.png');
            if (selector) {
                await page.locator(selector).screenshot({path: file});
            } else {
                await page.screenshot({path: file, fullPage: true});
            }
            t.ok(fs.statSync(file).size > 5000, 'screenshot ' + file);
        };

        await page.goto(BASE_URL + '/admin.html');
        await page.waitForFunction((p) => [...document.querySelectorAll(
            '#send-provider option')].some((o) => o.value === p), PROVIDER);
        await page.selectOption('#send-provider', PROVIDER);
        await page.fill('#send-group', GROUP.name);
        await page.fill('#send-identifier', GROUP.identifier);

        // --- what the page refuses itself, and what the server refuses --
        await page.fill('#send-payload', '{"title": ');
        await page.click('#send-submit');
        await page.waitForSelector('#send-errors:not([hidden])');
        t.like(await text('#send-errors'), /payload is not valid JSON/,
               'a payload that is not JSON is refused next to the form');
        t.is(posts.length, 0, '... and not sent');
        await page.fill('#send-payload', '{}');
        await page.fill('#send-title', DEFAULT.title);
        await page.fill('#send-body', DEFAULT.body);
        t.same(JSON.parse(await page.inputValue('#send-payload')), DEFAULT,
               'the title/body/icon/url fields fill in the payload JSON');
        await page.fill('#send-topic', 'not a topic!');
        await page.click('#send-submit');
        await page.waitForFunction(() => /5400/.test(
            document.getElementById('send-errors').textContent));
        t.like(await text('#send-errors'),
               /HTTP 400, code 5400: .*"topic" must be/,
               'the server\'s JSON:API error (code, message, detail) shows'
               + ' next to the form');
        t.is(await page.$$eval('#watched tr[data-uuid]', (x) => x.length), 0,
             '... and nothing is watched');

        // --- the campaign --------------------------------------------------
        await page.fill('#send-topic', 'admin-test');
        await page.fill('#send-ttl', '120');
        await page.selectOption('#send-urgency', 'high');
        await page.fill('#send-rate', '120');
        await page.click('#add-locale');
        await page.fill('#locale-name-1', 'de_DE');
        await page.fill('#locale-payload-1', JSON.stringify(GERMAN));
        await page.click('#add-locale');
        await page.fill('#locale-name-2', 'it_IT');
        await page.click('[aria-label="Remove locale payload 2"]');
        t.is(await page.$$eval('#locales .locale-row', (x) => x.length), 1,
             'a locale row is added and removed');
        const sendAtLocal = await localTime(page, 15000);
        await page.fill('#send-at', sendAtLocal);
        t.is(await text('#send-submit'), 'Schedule',
             'with a time set, the button says Schedule');
        const before = posts.length;
        await page.click('#send-submit');
        await page.waitForSelector('#notification:not([hidden])');
        await waitFor(async () => ['scheduled', 'sending', 'done']
            .includes(await state()), {timeoutMs: 30000,
                                       what: 'the first figures'});
        const post = posts[before];
        const id = await text('#notification-uuid');
        t.like(id, /^[0-9a-f-]{36}$/, 'the page shows the new uuid');
        const attrs = post.body.data.attributes;
        const sendAt = await page.evaluate((v) => new Date(v).toISOString()
            .replace(/\.\d+Z$/, 'Z'), sendAtLocal);
        t.same({sendAt: attrs.sendAt, ttl: attrs.ttl,
                urgency: attrs.urgency, topic: attrs.topic,
                ratePerMinute: attrs.ratePerMinute,
                localizedPayloads: attrs.localizedPayloads,
                payload: attrs.payload, group: attrs.group},
               {sendAt, ttl: 120, urgency: 'high', topic: 'admin-test',
                ratePerMinute: 120, localizedPayloads: {de_DE: GERMAN},
                payload: DEFAULT, group: GROUP},
               'the POST carries the form (sendAt in UTC: ' + sendAt + ')');
        t.like(post.key || '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/,
               'with a random Idempotency-Key');
        t.is(await state(), 'scheduled', 'the page shows "scheduled" first');
        t.like(await text('#n-send-at'), /\(in \d+ s\)/,
               '... and when it starts');
        t.is((await mockLog()).length, 0,
             'nothing reached the push service before sendAt');
        // a second sample draws the first stretch of the lines
        await waitFor(() => page.$eval('#chart',
                                       (c) => Number(c.dataset.samples) >= 2),
                      {timeoutMs: 30000, what: 'a second sample'});
        await shot('scheduled', 'section:has(#watch-heading)');
        await shot('page');

        // ratePerMinute: the other branch may not have it yet
        r = await call('GET', API + '/push-notifications/' + id);
        const echoed = r.doc.data.attributes.ratePerMinute;
        if (echoed === undefined) {
            t.like(await text('#n-rate'), /^— \(120 asked for; this server/,
                   'this server does not echo ratePerMinute: the page shows'
                   + ' "—" and what was asked for');
        } else {
            t.is(await text('#n-rate'), echoed + ' per minute',
                 'the page shows the ratePerMinute GET echoes');
        }

        // --- in progress ----------------------------------------------------
        const progress = await waitFor(async () => {
            const s = await state();
            const l = await legend();
            return (s === 'done' || (s === 'sending' && Number(l.sent) > 0))
                && {s, l};
        }, {timeoutMs: LONG, intervalMs: 200,
            what: 'the page to show the notification sending'});
        t.is(progress.s, 'sending', 'then "sending", with '
             + progress.l.sent + ' sent and ' + progress.l.pending
             + ' pending');
        // the screenshot a few samples later: 5 sent once the 429s and
        // the 2.5 s answer are through, while the 5 s one is pending
        const later = await waitFor(async () => {
            const s = await state();
            return (s === 'done' || (s === 'sending'
                                     && Number((await legend()).sent) >= 5))
                && s;
        }, {timeoutMs: LONG, intervalMs: 200, what: 'more figures'});
        if (later !== 'sending') {
            t.note('the sending phase passed between two polls:'
                   + ' admin-progress.png shows the notification done');
        }
        await shot('progress', 'section:has(#watch-heading)');

        // --- done --------------------------------------------------------
        await waitFor(async () => await state() === 'done',
                      {timeoutMs: LONG, intervalMs: 250,
                       what: 'the page to show the notification done'});
        r = await call('GET', API + '/push-notifications/' + id);
        const got = r.doc.data.attributes;
        t.is(got.state, 'done', 'GET says done too');
        t.same(got.delivery, EXPECTED, 'GET: 6 sent, 1 failed, 1 gone');
        const shown = await legend();
        t.same(Object.fromEntries(DELIVERY.map((k) => [k, shown[k]])),
               Object.fromEntries(DELIVERY.map(
                   (k) => [k, String(got.delivery[k])])),
               'the legend shows GET\'s delivery figures');
        t.same(ENGAGEMENT.map((k) => shown[k]),
               ENGAGEMENT.map((k) => got.engagement
                              ? String(got.engagement[k]) : '—'),
               got.engagement ? 'and its engagement figures'
                   : 'and "—" for engagement, which this server does not'
                     + ' report yet');
        t.like(await text('#send-status'), /^Done: 6 sent, 1 failed, 1 gone/,
               'the status line says done');
        const chart = await page.$eval('#chart', (svg) => ({
            last: Object.fromEntries([...svg.querySelectorAll('.chart-last')]
                .map((c) => [c.dataset.series, Number(c.dataset.value)])),
            paths: Object.fromEntries([...svg.querySelectorAll(
                '.chart-series')].map((g) => [g.dataset.series,
                                              g.querySelector('path')
                                                  .getAttribute('d')])),
            xLabels: [...svg.querySelectorAll('.chart-x-label')]
                .map((x) => x.textContent),
            yLabels: [...svg.querySelectorAll('.chart-y-label')]
                .map((x) => x.textContent),
            // where the count axis puts each label, and each line's end
            yAt: [...svg.querySelectorAll('.chart-y-label')]
                .map((x) => [Number(x.textContent),
                             Number(x.getAttribute('y')) - 4]),
            dots: [...svg.querySelectorAll('.chart-last')]
                .map((c) => [Number(c.dataset.value),
                             Number(c.getAttribute('cy'))]),
            marks: svg.querySelectorAll('.chart-mark').length,
            samples: Number(svg.dataset.samples),
        }));
        const want = Object.assign({}, got.delivery, got.engagement || {});
        t.same(chart.last, want,
               'each line of the chart ends at GET\'s figure ('
               + Object.keys(want).join(', ') + ')');
        const sent = points(chart.paths.sent || '');
        const ys = new Set(sent.map((p) => p.y));
        t.ok(sent.length >= 3
             && sent.every((p, i) => i === 0 || (p.x >= sent[i - 1].x
                                                 && p.y <= sent[i - 1].y))
             && ys.size >= 2,
             'the "sent" line goes forward in time and only up, through '
             + ys.size + ' values in ' + sent.length + ' points ('
             + chart.samples + ' samples kept)', chart.paths.sent);
        t.ok(chart.xLabels.length >= 2
             && chart.xLabels.every((x) => /^\d\d:\d\d:\d\d$/.test(x)),
             'the time axis has clock labels: ' + chart.xLabels.join(' '));
        t.ok(chart.yLabels[0] === '0'
             && Number(chart.yLabels[chart.yLabels.length - 1]) >= 8,
             'the count axis goes from 0 to at least 8: '
             + chart.yLabels.join(' '));
        t.is(chart.marks, 1, 'a line marks sendAt');
        // the height of each line's end against the axis' labels
        const [v0, y0] = chart.yAt[0];
        const [v1, y1] = chart.yAt[chart.yAt.length - 1];
        const off = chart.dots.filter(([v, cy]) => Math.abs(
            y0 + (y1 - y0) * (v - v0) / (v1 - v0) - cy) > 1);
        t.same(off, [], 'each line ends at the height of its figure on the'
               + ' count axis');
        await shot('done', 'section:has(#watch-heading)');

        // what the push service got: each locale's payload or the default
        const log = await mockLog();
        const payloads = {};
        for (const rec of log) {
            if (rec.outcome === '201' && rec.payload) {
                const p = JSON.parse(rec.payload);
                delete p.webpushEvent;      // the events branch adds it
                payloads[rec.id.slice(RUN.length + 1)] = p;
            }
        }
        t.same(payloads, {0: DEFAULT, 1: GERMAN, 2: DEFAULT, 3: DEFAULT,
                          4: GERMAN, 5: DEFAULT},
               'the push service got the German payload for de_DE, the'
               + ' default for the others');
        const firstAt = Math.min(...log.map((x) => x.t));
        t.ok(firstAt >= Date.parse(sendAt) - 1000,
             'the first push request came at sendAt or after ('
             + (firstAt - Date.parse(sendAt)) + ' ms)');
        // the TTL left when sent: 120 s from the POST, minus the wait
        t.same([...new Set(log.map((x) => [x.headers.urgency,
                                           x.headers.topic,
                                           Number(x.headers.ttl) <= 120
                                           && Number(x.headers.ttl) >= 60]
                                   .join(' ')))],
               ['high admin-test true'], 'with Urgency, Topic and TTL set'
               + ' (TTL ' + [...new Set(log.map((x) => x.headers.ttl))]
                   .join(', ') + ')');

        // --- the push services' table ------------------------------------
        const row = '#status-origins tr[data-origin="' + ORIGIN + '"]';
        const figures = () => page.$$eval(row + ' td[data-outcome]', (tds) =>
            Object.fromEntries(tds.map((td) => [td.dataset.outcome,
                                                Number(td.textContent)])));
        const status = await waitFor(async () => {
            const f = await page.$(row) && await figures();
            // each worker's figures arrive when a poll reaches it: wait
            // until every one has (the retries may be another worker's)
            return f && f.sent === 6 && f.failed === 1 && f.gone === 1
                   && f.retried >= 2 && f;
        }, {timeoutMs: LONG, intervalMs: 500,
            what: 'the status table to add up 6 sent, 1 failed, 1 gone and'
                  + ' 2 retried for ' + ORIGIN})
            .catch(async (e) => {
                t.diag(e.message + ': it shows ' + JSON.stringify(
                    await page.$(row) && await figures()) + '; '
                       + await text('#status-workers'));
                return null;
            });
        t.ok(status, 'the status table shows ' + ORIGIN
             + ' with the 6 requests sent, summed over the workers');
        t.same(status && {failed: status.failed, gone: status.gone},
               {failed: 1, gone: 1}, '... 1 failed (413), 1 gone (410)');
        t.ok(status && status.retried >= 2,
             '... and the 429s retried (' + (status && status.retried) + ')');
        t.like(await text('#status-workers'), /nginx workers? heard from/,
               'it says which workers the figures come from');
        await page.click('#status-heading ~ details summary');
        await shot('status', 'section:has(#status-heading)');

        // --- a second notification, double-clicked, then cancelled -------
        await page.fill('#send-title', 'To be cancelled');
        await page.click('[aria-label="Remove locale payload 1"]');
        await page.fill('#send-rate', '');
        await page.fill('#send-at', await localTime(page, 10 * 60 * 1000));
        const n = posts.length;
        await page.dblclick('#send-submit');
        await page.waitForFunction((old) => {
            const c = document.getElementById('notification-uuid');
            return c.textContent !== old;
        }, id);
        const second = await text('#notification-uuid');
        const keys = new Set(posts.slice(n).map((p) => p.key));
        t.ok(posts.length > n && keys.size === 1,
             'a double click sends one request, or two with one'
             + ' Idempotency-Key (' + (posts.length - n) + ')');
        await page.click('#send-submit');
        await page.waitForFunction(() => /created for this key before/.test(
            document.getElementById('send-key').textContent));
        t.same([posts[posts.length - 1].key, await text('#notification-uuid')],
               [[...keys][0], second],
               'the same form sent again: the same key, the same'
               + ' notification');
        t.is(await page.$$eval('#watched tr[data-uuid]', (x) => x.length), 2,
             'the page watches two notifications');
        await waitFor(async () => await state() === 'scheduled',
                      {timeoutMs: 30000, what: 'the second one scheduled'});
        t.like(await text('#n-send-at'), /\(in (9|10) min\)/,
               'it starts in 10 minutes');

        page.once('dialog', (d) => d.dismiss());
        await page.click('#cancel-notification');
        await new Promise((x) => setTimeout(x, 500));
        t.is(deletes.length, 0, 'cancel asks first; "no" sends nothing');
        page.once('dialog', (d) => d.accept());
        await page.click('#cancel-notification');
        await waitFor(async () => await state() === 'cancelled',
                      {timeoutMs: 30000, what: 'the page to show cancelled'});
        r = await call('GET', API + '/push-notifications/' + second);
        t.same([deletes.length, r.doc.data.attributes.state,
                await text('#n-state')], [1, 'cancelled', 'cancelled'],
               '"yes" DELETEs it: GET and the page say cancelled');
        t.ok(await page.$eval('#cancel-notification', (b) => b.disabled),
             'a cancelled notification cannot be cancelled again');

        // the first one again, and after a reload
        await page.click('#watched tr[data-uuid="' + id + '"] button');
        t.same([await text('#notification-uuid'), await state(),
                (await legend()).sent], [id, 'done', '6'],
               '"Show" brings back the first notification\'s chart');
        await page.reload();
        await page.waitForSelector('#notification:not([hidden])');
        t.same([await page.$$eval('#watched tr[data-uuid]', (x) => x.length),
                await text('#notification-uuid'), (await legend()).sent],
               [2, id, '6'], 'a reload keeps the notifications and figures');
        await page.evaluate(() => localStorage.clear());
        await page.reload();
        await page.fill('#watch-uuid', id);
        await page.click('#watch-form button');
        await waitFor(async () => await page.$('#notification:not([hidden])')
                      && await state() === 'done',
                      {timeoutMs: 30000, what: 'the watched notification'});
        t.same([await page.$$eval('#watched tr[data-uuid]', (x) => x.length),
                (await legend()).sent], [1, '6'],
               'a notification given by uuid is watched too');

        // the one error the test provoked is the browser's report of the
        // 400 answer; the page's scripts logged nothing
        const provoked = new RegExp('^Failed to load resource: the server'
                                    + ' responded with a status of 400 .*'
                                    + '/api/push-notifications\\)$');
        t.note('console errors of the provoked 400: '
               + consoleErrors.filter((m) => provoked.test(m)).length);
        t.same(consoleErrors.filter((m) => !provoked.test(m)), [],
               'no console error from the page');
    } finally {
        if (browser) {
            await browser.close();
        }
        mock.kill();
    }
});
