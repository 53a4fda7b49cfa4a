// The X windows of a Chromium on Xvfb, seen and clicked with xdotool: how
// the tests reach the notification popups Chromium draws itself when it
// has no notification daemon (see click.test.js for why).

'use strict';

const fs = require('node:fs');
const {execFileSync} = require('node:child_process');

const XDOTOOL = '/usr/bin/xdotool';

/* Why a test needing a real screen cannot run here, or null. */
function screenProblem() {
    if (!fs.existsSync('/usr/bin/Xvfb') || !fs.existsSync(XDOTOOL)) {
        return 'needs Xvfb and xdotool (apt-get install xvfb xdotool):'
               + ' headless Chromium shows no notification to click';
    }
    return null;
}

function xdotool(display, args) {
    return execFileSync(XDOTOOL, args,
                        {env: {...process.env, DISPLAY: display},
                         stdio: ['ignore', 'pipe', 'ignore']}).toString();
}

/* The visible windows: [{id, x, y, width, height}]. */
function windows(display) {
    let ids;
    try {
        ids = xdotool(display, ['search', '--onlyvisible', '--name', ''])
            .trim().split('\n').filter(Boolean);
    } catch (e) {
        return [];                  // xdotool exits 1 when nothing matches
    }
    const list = [];
    for (const id of ids) {
        let geo;
        try {
            geo = xdotool(display, ['getwindowgeometry', '--shell', id]);
        } catch (e) {
            continue;               // gone since the search
        }
        const v = (k) => Number((geo.match(new RegExp(k + '=(\\d+)')) || [])[1]);
        list.push({id, x: v('X'), y: v('Y'), width: v('WIDTH'),
                   height: v('HEIGHT')});
    }
    return list;
}

/* A new window small enough to be a notification popup, not one of
 * `before` (a Set of ids), or undefined. */
function newPopup(display, before) {
    return windows(display).find((w) => !before.has(w.id) && w.width < 600
                                        && w.height < 300);
}

/* A left click at (x, y) inside the window. */
function click(display, win, x, y) {
    xdotool(display, ['mousemove', '--window', win.id, String(Math.round(x)),
                      String(Math.round(y)), 'click', '1']);
}

/* A click on a popup's text area: the left half holds icon, title and
 * body; the close and settings buttons are at the right. */
function clickBody(display, popup) {
    click(display, popup, popup.width / 4, popup.height / 2);
}

/* A click on a popup's close button, as a user closes it. The button is
 * drawn only while the pointer is over the popup: the pointer goes there
 * first, then onto the button (top right), then clicks. */
async function clickClose(display, popup) {
    const pause = () => new Promise((resolve) => setTimeout(resolve, 800));
    xdotool(display, ['mousemove', '--window', popup.id,
                      String(Math.round(popup.width / 2)),
                      String(Math.round(popup.height / 2))]);
    await pause();
    xdotool(display, ['mousemove', '--window', popup.id,
                      String(popup.width - 18), '18']);
    await pause();
    xdotool(display, ['click', '1']);
}

module.exports = {XDOTOOL, screenProblem, windows, newPopup, click,
                  clickBody, clickClose};
