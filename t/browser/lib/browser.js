// Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// npm playwright-core (never a downloaded browser), a fresh profile each
// time, no traffic to Google's services (the machine has no internet).

'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {spawn} = require('node:child_process');
const {createRequire} = require('node:module');

const TOP = path.resolve(__dirname, '..', '..', '..');

// the npm packages live in t/node (see t/node/package.json)
const requireNode = createRequire(path.join(TOP, 't', 'node', 'package.json'));

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const BASE_URL = (process.env.WEBPUSH_BASE_URL || 'http://127.0.0.1:8080')
    .replace(/\/+$/, '');
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR
    || path.join(TOP, 'build', 'screenshots');

const FLAGS = [
    '--no-sandbox',                 // the tests run as root
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-features=NativeNotifications,SystemNotifications',
];

function checkEnvironment(t) {
    if (!fs.existsSync(CHROMIUM)) {
        t.skipAll(CHROMIUM + ' is absent (apt-get install chromium)');
    }
    try {
        requireNode.resolve('playwright-core');
    } catch (e) {
        t.skipAll('npm playwright-core is not installed in t/node'
                  + ' (make -f Makefile.wrapper deps)');
    }
}

/* A persistent context on a new, empty profile: the Push API is off in
 * incognito contexts (what browser.newContext() gives), so a profile
 * directory is needed. */
async function launch({headless = true, env, args = []} = {}) {
    const {chromium} = requireNode('playwright-core');
    const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(),
                                                 'webpush-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless,
        args: FLAGS.concat(args),
        env: Object.assign({}, process.env, env || {}),
        viewport: {width: 900, height: 760},
    });
    context.setDefaultTimeout(30000);
    return {
        context,
        async close() {
            await context.close().catch(() => {});
            fs.rmSync(userDataDir, {recursive: true, force: true});
        },
    };
}

/* CDP's ServiceWorker domain on a page: registrationId(scope) waits until
 * the registration with that scope is known; push(...) delivers a push
 * message to it as the push service would. */
async function serviceWorkerCdp(context, page) {
    const cdp = await context.newCDPSession(page);
    const registrations = new Map();
    const waiters = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        for (const r of e.registrations) {
            if (r.isDeleted) {
                registrations.delete(r.scopeURL);
            } else {
                registrations.set(r.scopeURL, r.registrationId);
            }
        }
        for (const w of waiters.splice(0)) {
            w();
        }
    });
    await cdp.send('ServiceWorker.enable');

    async function registrationId(scopeURL, timeoutMs = 10000) {
        const end = Date.now() + timeoutMs;
        while (!registrations.has(scopeURL)) {
            if (Date.now() > end) {
                throw new Error('no service worker registration for '
                                + scopeURL + ' (have: '
                                + [...registrations.keys()].join(', ') + ')');
            }
            await new Promise((resolve) => {
                waiters.push(resolve);
                setTimeout(resolve, 200);
            });
        }
        return registrations.get(scopeURL);
    }

    async function push(scopeURL, data) {
        const origin = new URL(scopeURL).origin;
        await cdp.send('ServiceWorker.deliverPushMessage', {
            origin, registrationId: await registrationId(scopeURL), data,
        });
    }

    return {cdp, registrationId, push};
}

/* Polls fn() until it returns something truthy. */
async function waitFor(fn, {timeoutMs = 10000, intervalMs = 100,
                            what = 'condition'} = {}) {
    const end = Date.now() + timeoutMs;
    let last;
    for (;;) {
        last = await fn();
        if (last) {
            return last;
        }
        if (Date.now() > end) {
            throw new Error('timed out waiting for ' + what);
        }
        await new Promise((r) => setTimeout(r, intervalMs));
    }
}

/* Xvfb on a free display, for the tests that need a real screen (a click
 * on a notification). Resolves to {display, stop()} or null when Xvfb is
 * not installed. */
async function startXvfb() {
    const bin = ['/usr/bin/Xvfb'].find((p) => fs.existsSync(p));
    if (!bin) {
        return null;
    }
    const proc = spawn(bin, ['-displayfd', '3', '-screen', '0', '1280x800x24',
                             '-nolisten', 'tcp', '-noreset'],
                       {stdio: ['ignore', 'ignore', 'pipe', 'pipe']});
    let stderr = '';
    proc.stderr.on('data', (d) => { stderr += d; });
    const display = await new Promise((resolve, reject) => {
        let out = '';
        proc.stdio[3].on('data', (d) => {
            out += d;
            if (out.includes('\n')) {
                resolve(':' + out.trim());
            }
        });
        proc.on('exit', (code) => reject(new Error('Xvfb exited with '
                                                   + code + ': ' + stderr)));
        setTimeout(() => reject(new Error('Xvfb did not start: ' + stderr)),
                   10000);
    });
    return {
        display,
        stop() {
            proc.kill('SIGTERM');
        },
    };
}

module.exports = {
    TOP, BASE_URL, CHROMIUM, SCREENSHOT_DIR, requireNode, checkEnvironment,
    launch, serviceWorkerCdp, waitFor, startXvfb,
};
