// Command-line plumbing shared by the mock push services in t/node.

'use strict';

const fs = require('fs');
const { spawn } = require('child_process');

// "--name value" and bare "--flag" options; the rest in opts._
function parseArgs(argv) {
    const opts = { _: [] };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a.startsWith('--')) {
            const name = a.slice(2);
            const next = argv[i + 1];
            if (next === undefined || next.startsWith('--')) {
                opts[name] = true;
            } else {
                opts[name] = next;
                i++;
            }
        } else {
            opts._.push(a);
        }
    }
    return opts;
}

// Runs script again with argv minus "--pidfile FILE", in the background,
// writes its pid to opts.pidfile and returns once probe() succeeds (the
// server answers), trying every 50 ms up to tries times.
async function detach(script, opts, argv, probe, tries) {
    const args = argv.filter((a, i) => a !== '--pidfile'
                                       && argv[i - 1] !== '--pidfile');
    const child = spawn(process.execPath, [script, ...args], {
        detached: true,
        stdio: ['ignore', 'ignore', 'inherit'],
    });
    fs.writeFileSync(opts.pidfile, `${child.pid}\n`);
    child.unref();

    for (let i = 0; i < tries; i++) {
        try {
            await probe();
            return;
        } catch (e) {
            await new Promise((r) => setTimeout(r, 50));
        }
    }
    throw new Error('the mock push service did not start');
}

module.exports = { parseArgs, detach };
