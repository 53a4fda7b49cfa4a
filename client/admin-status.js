// The admin page's table of push-service origins, from webpush_status.
//
// Each answer of webpush_status holds the figures of the one worker
// process that served it ("pid"; its "sender.origins" counts that
// worker's push requests per push-service origin). The page keeps the
// latest answer of every worker it has heard from and adds them up per
// origin. conf/nginx.conf serves the page's status location without
// keep-alive, so that successive polls arrive on new connections, which
// any worker may accept; a worker not heard from for FORGET_MS (gone
// after a reload) is dropped.
'use strict';

(function () {
    var POLL_MS = 2000;
    var FORGET_MS = 2 * 60 * 1000;
    var OUTCOMES = ['sent', 'failed', 'retried', 'gone', 'no_answer'];

    function $(id) {
        return document.getElementById(id);
    }

    function cell(tag, text, attrs) {
        var c = document.createElement(tag);
        c.textContent = text;
        Object.keys(attrs || {}).forEach(function (k) {
            c.setAttribute(k, attrs[k]);
        });
        return c;
    }

    function row(cells) {
        var tr = document.createElement('tr');
        cells.forEach(function (c) { tr.appendChild(c); });
        return tr;
    }

    function count(v) {
        return typeof v === 'number' ? v : 0;
    }

    function ago(ms) {
        var s = Math.round(ms / 1000);
        return s < 60 ? s + ' s ago' : Math.round(s / 60) + ' min ago';
    }

    function start(url) {
        var workers = new Map();        // pid -> {t, doc}
        var timer = null;

        function render(error) {
            var now = Date.now();
            workers.forEach(function (w, pid) {
                if (now - w.t > FORGET_MS) {
                    workers.delete(pid);
                }
            });
            $('status-error').hidden = !error;
            $('status-error').textContent = error
                ? 'Cannot read ' + url + ': ' + error : '';

            var sums = new Map();       // origin -> {outcome: n, workers}
            var perWorker = [];
            var pids = Array.from(workers.keys()).sort(function (a, b) {
                return a - b;
            });
            var sending = false;
            pids.forEach(function (pid) {
                var doc = workers.get(pid).doc;
                var origins = doc.sender && doc.sender.origins;
                if (!origins) {
                    return;
                }
                sending = true;
                Object.keys(origins).forEach(function (origin) {
                    var s = sums.get(origin);
                    if (!s) {
                        s = {workers: 0};
                        OUTCOMES.forEach(function (k) { s[k] = 0; });
                        sums.set(origin, s);
                    }
                    s.workers++;
                    OUTCOMES.forEach(function (k) {
                        s[k] += count(origins[origin][k]);
                    });
                    perWorker.push([pid, origin, origins[origin]]);
                });
            });

            var tbody = $('status-origins');
            tbody.textContent = '';
            var total = {};
            OUTCOMES.forEach(function (k) { total[k] = 0; });
            Array.from(sums.keys()).sort().forEach(function (origin) {
                var s = sums.get(origin);
                var tr = row([cell('th', origin, {scope: 'row'})].concat(
                    OUTCOMES.map(function (k) {
                        total[k] += s[k];
                        return cell('td', String(s[k]), {'data-outcome': k,
                                                         'class': 'num'});
                    }),
                    [cell('td', String(s.workers), {'class': 'num'})]));
                tr.dataset.origin = origin;
                tbody.appendChild(tr);
            });
            if (!sums.size) {
                var empty = cell('td', !workers.size
                    ? (error ? 'No answer.' : 'Loading…')
                    : sending ? 'No push request from the workers heard'
                                + ' from so far.'
                    : 'This node does not send (no sender figures).');
                empty.colSpan = OUTCOMES.length + 2;
                tbody.appendChild(row([empty]));
            }
            var tfoot = $('status-total');
            tfoot.textContent = '';
            if (sums.size > 1) {
                tfoot.appendChild(row([cell('th', 'All origins',
                                            {scope: 'row'})].concat(
                    OUTCOMES.map(function (k) {
                        return cell('td', String(total[k]), {'class': 'num'});
                    }), [cell('td', '')])));
            }

            $('status-workers').textContent = pids.length
                ? 'Sums over the ' + pids.length + ' nginx worker'
                  + (pids.length > 1 ? 's' : '') + ' heard from: '
                  + pids.map(function (pid) {
                      return pid + ' (' + ago(now - workers.get(pid).t) + ')';
                  }).join(', ') + '.'
                : '';
            var latest = pids.map(function (pid) { return workers.get(pid); })
                .sort(function (a, b) { return b.t - a.t; })[0];
            var q = latest && latest.doc.queue;
            $('status-node').textContent = q
                ? 'This node: ' + count(q.depth) + ' deliveries queued, '
                  + count(q.in_flight) + ' push requests in flight; nginx '
                  + latest.doc.nginx + ', module ' + latest.doc.version + '.'
                : '';

            var wbody = $('status-per-worker');
            wbody.textContent = '';
            perWorker.forEach(function (p) {
                var tr = row([cell('td', String(p[0])), cell('td', p[1])]
                    .concat(OUTCOMES.map(function (k) {
                        return cell('td', String(count(p[2][k])),
                                    {'class': 'num'});
                    })));
                tr.dataset.pid = String(p[0]);
                tr.dataset.origin = p[1];
                wbody.appendChild(tr);
            });
            $('status-updated').textContent = WebPushAdminChart.clock(now);
        }

        async function poll() {
            timer = null;
            var error = null;
            try {
                var res = await fetch(url, {
                    headers: {Accept: 'application/json'},
                    credentials: 'same-origin', cache: 'no-store'});
                if (!res.ok) {
                    error = 'HTTP ' + res.status;
                } else {
                    var doc = await res.json();
                    if (doc && typeof doc.pid === 'number') {
                        workers.set(doc.pid, {t: Date.now(), doc: doc});
                    } else {
                        error = 'the answer is not webpush_status JSON';
                    }
                }
            } catch (e) {
                error = e.message;
            }
            render(error);
            schedule();
        }

        function schedule() {
            if (timer === null && !document.hidden) {
                timer = setTimeout(poll, POLL_MS);
            }
        }

        // a hidden tab does not poll; it catches up when shown again
        document.addEventListener('visibilitychange', function () {
            if (!document.hidden && timer === null) {
                poll();
            }
        });
        $('status-refresh').addEventListener('click', function () {
            if (timer !== null) {
                clearTimeout(timer);
            }
            poll();
        });
        poll();
    }

    window.WebPushAdminStatus = {start: start};
}());
