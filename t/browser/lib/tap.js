// A small TAP producer for the browser tests: t/050-browser.t runs each
// t/browser/*.test.js with node and reads this output with TAP::Parser.

'use strict';

const util = require('node:util');

class Tap {
    constructor() {
        this.count = 0;
        this.failures = 0;
        this.finished = false;
    }

    line(s) {
        process.stdout.write(s + '\n');
    }

    // whole script skipped; must come before any test
    skipAll(reason) {
        this.line('1..0 # SKIP ' + oneLine(reason));
        this.finished = true;
        process.exit(0);
    }

    ok(cond, name, details) {
        this.count++;
        this.line((cond ? 'ok ' : 'not ok ') + this.count + ' - '
                  + escape(name));
        if (!cond) {
            this.failures++;
            if (details !== undefined) {
                this.diag(typeof details === 'string'
                          ? details : util.inspect(details, {depth: 6}));
            }
        }
        return !!cond;
    }

    is(got, want, name) {
        return this.ok(Object.is(got, want), name,
                       'got:  ' + util.inspect(got) + '\nwant: '
                       + util.inspect(want));
    }

    same(got, want, name) {
        return this.ok(util.isDeepStrictEqual(got, want), name,
                       'got:  ' + util.inspect(got, {depth: 8})
                       + '\nwant: ' + util.inspect(want, {depth: 8}));
    }

    like(got, re, name) {
        return this.ok(typeof got === 'string' && re.test(got), name,
                       'got:  ' + util.inspect(got) + '\nwant: ' + re);
    }

    skip(reason, name, n = 1) {
        for (let i = 0; i < n; i++) {
            this.count++;
            this.line('ok ' + this.count + ' - ' + escape(name) + ' # SKIP '
                      + oneLine(reason));
        }
    }

    // diagnostics go to stderr, which prove shows
    diag(msg) {
        for (const l of String(msg).split('\n')) {
            process.stderr.write('# ' + l + '\n');
        }
    }

    note(msg) {
        for (const l of String(msg).split('\n')) {
            this.line('# ' + l);
        }
    }

    done() {
        if (this.finished) {
            return;
        }
        this.finished = true;
        this.line('1..' + this.count);
        process.exitCode = this.failures ? 1 : 0;
    }
}

function escape(s) {
    return oneLine(s).replace(/#/g, '\\#');
}

function oneLine(s) {
    return String(s).replace(/\s*\n\s*/g, ' ');
}

// Runs main(t) with a watchdog; an exception fails the script.
async function run(main, {timeoutMs = 180000} = {}) {
    const t = new Tap();
    const watchdog = setTimeout(() => {
        t.ok(false, 'finished within ' + timeoutMs / 1000 + ' s');
        t.done();
        process.exit(1);
    }, timeoutMs);
    watchdog.unref();
    try {
        await main(t);
    } catch (e) {
        t.ok(false, 'no exception', e && e.stack || String(e));
    } finally {
        clearTimeout(watchdog);
        t.done();
    }
}

module.exports = {Tap, run};
