// The admin page: providers, notifications created from the form
// (admin-form.js builds the request), their delivery watched live as a
// chart (admin-chart.js), cancel, and the push-service figures of
// webpush_status (admin-status.js).
// The page and the API sit behind auth_basic in conf/nginx.conf; the
// browser resends the credentials with every same-origin fetch.
'use strict';

(function () {
    var root = document.documentElement.dataset;
    var API = root.apiBase || '/api';
    var STATUS_URL = root.statusUrl || '/api/webpush-status';
    var JSONAPI = 'application/vnd.api+json';
    var POLL_MS = 1000;
    // a notification scheduled further ahead than this is polled slowly
    var FAR_MS = 60 * 1000;
    var FAR_POLL_MS = 10 * 1000;
    var MAX_BACKOFF_MS = 10 * 1000;
    // a server without "state": a notification still targeting nobody
    // after this long has no subscription to go to
    var EMPTY_AFTER_MS = 10 * 1000;
    var MAX_WATCHED = 20;
    var MAX_SAMPLES = 720;
    var STORE = 'webpush-admin';
    var FINAL = {done: true, cancelled: true};
    var DELIVERY = ['targeted', 'sent', 'pending', 'failed', 'gone',
                    'cancelled'];
    var ENGAGEMENT = ['shown', 'clicked', 'closed'];
    // Okabe-Ito colours (told apart with colour-blindness too) and dash
    // patterns, so that lines differ without colour as well
    var SERIES = [
        {key: 'targeted', label: 'Targeted', color: '#1b1b1b', dash: '8 4'},
        {key: 'sent', label: 'Sent', color: '#0072b2'},
        {key: 'pending', label: 'Pending', color: '#e69f00', dash: '2 3'},
        {key: 'failed', label: 'Failed', color: '#d55e00'},
        {key: 'gone', label: 'Gone', color: '#cc79a7', dash: '10 3 2 3'},
        {key: 'cancelled', label: 'Cancelled', color: '#6e6e6e',
         dash: '4 4'},
        {key: 'shown', label: 'Shown', color: '#009e73'},
        {key: 'clicked', label: 'Clicked', color: '#56b4e9', dash: '6 2'},
        {key: 'closed', label: 'Closed', color: '#8a6d00', dash: '1 3'},
    ];
    var $ = function (id) { return document.getElementById(id); };

    var watched = new Map();        // uuid -> item (see watch())
    var selected = null;            // uuid shown in the chart
    var submitting = false;

    /* --- the API ------------------------------------------------------- */

    // resolves to the JSON document; rejects with an Error carrying
    // status and errors ([{code, status, message, detail}]) of a JSON:API
    // error answer
    async function api(method, path, body, headers) {
        var init = {method: method, headers: {Accept: JSONAPI},
                    credentials: 'same-origin', cache: 'no-store'};
        Object.keys(headers || {}).forEach(function (k) {
            init.headers[k] = headers[k];
        });
        if (body !== undefined) {
            init.headers['Content-Type'] = JSONAPI;
            init.body = JSON.stringify(body);
        }
        var res;
        try {
            res = await fetch(API + path, init);
        } catch (e) {
            var net = new Error(method + ' ' + API + path + ': no answer ('
                                + e.message + ')');
            net.status = 0;
            net.errors = [];
            throw net;
        }
        var text = await res.text();
        var doc = null;
        try {
            doc = text ? JSON.parse(text) : null;
        } catch (e) {
            doc = null;
        }
        if (!res.ok || res.status === 207) {
            var errors = doc && Array.isArray(doc.errors) ? doc.errors : [];
            var msg = errors.map(function (e) {
                return e.message + (e.detail ? ': ' + e.detail : '')
                       + (e.code ? ' (code ' + e.code + ')' : '');
            }).join('; ');
            var err = new Error(method + ' ' + API + path + ': HTTP '
                                + res.status + (msg ? ' – ' + msg : ''));
            err.status = res.status;
            err.errors = errors;
            throw err;
        }
        return doc;
    }

    function showError(err) {
        $('error').hidden = !err;
        $('error').textContent = err ? err.message : '';
    }

    // the problems of one request, one per line, next to its form
    function showProblems(box, title, lines) {
        box.textContent = '';
        box.hidden = !lines.length;
        if (!lines.length) {
            return;
        }
        var p = document.createElement('p');
        p.textContent = title;
        var ul = document.createElement('ul');
        lines.forEach(function (l) {
            var li = document.createElement('li');
            li.textContent = l;
            ul.appendChild(li);
        });
        box.appendChild(p);
        box.appendChild(ul);
    }

    function apiProblems(err) {
        if (!err.errors || !err.errors.length) {
            return [err.message];
        }
        return err.errors.map(function (e) {
            return 'HTTP ' + (e.status || err.status) + ', code '
                   + (e.code || '?') + ': ' + (e.message || '')
                   + (e.detail ? ' ' + e.detail : '');
        });
    }

    /* --- providers ------------------------------------------------------- */

    function cell(text, tag) {
        var td = document.createElement(tag || 'td');
        td.textContent = text;
        return td;
    }

    async function loadProviders() {
        var doc = await api('GET', '/push-notification-providers?sort=name');
        var rows = doc && Array.isArray(doc.data) ? doc.data : [];
        var tbody = $('providers');
        var select = $('send-provider');
        var chosen = select.value;
        tbody.textContent = '';
        select.textContent = '';
        if (!rows.length) {
            var td = cell('No provider yet: create one below.');
            td.colSpan = 2;
            tbody.appendChild(document.createElement('tr')).appendChild(td);
        }
        rows.forEach(function (p) {
            var tr = document.createElement('tr');
            tr.appendChild(cell(p.attributes.name));
            tr.appendChild(cell(p.id));
            tbody.appendChild(tr);
            var opt = document.createElement('option');
            opt.textContent = p.attributes.name;
            select.appendChild(opt);
        });
        if (chosen) {
            select.value = chosen;
        }
    }

    $('provider-form').addEventListener('submit', async function (e) {
        e.preventDefault();
        showError(null);
        var name = $('provider-name').value;
        try {
            await api('POST', '/push-notification-providers', {
                data: {type: 'push-notification-providers',
                       attributes: {name: name}}
            });
            await loadProviders();
            $('send-provider').value = name;
        } catch (err) {
            showError(err);
        }
    });

    $('reload-providers').addEventListener('click', function () {
        showError(null);
        loadProviders().catch(showError);
    });

    $('send-form').addEventListener('submit', async function (e) {
        e.preventDefault();
        if (submitting) {
            return;
        }
        var built = WebPushAdminForm.build();
        showProblems($('send-errors'), 'Not sent, the form has problems:',
                     built.problems);
        if (built.problems.length) {
            return;
        }
        var key = WebPushAdminForm.key();
        // the button stays disabled while the request runs: the second
        // click of a double click finds it so and does nothing
        submitting = true;
        $('send-submit').disabled = true;
        try {
            var doc = await api('POST', '/push-notifications', {
                data: {type: 'push-notifications',
                       attributes: built.attributes}
            }, {'Idempotency-Key': key});
            var id = doc.data.id;
            $('send-key').textContent = 'Idempotency-Key ' + key
                + (watched.has(id) ? ': the server answered with the'
                   + ' notification it created for this key before;'
                   + ' nothing is sent twice. Change the form to send'
                   + ' another one.' : '.');
            watch(id, doc.data.attributes).askedRate =
                built.attributes.ratePerMinute;
            select(id);
            refresh(watched.get(id));
        } catch (err) {
            showProblems($('send-errors'),
                         'The server did not create the notification:',
                         apiProblems(err));
        } finally {
            submitting = false;
            $('send-submit').disabled = false;
        }
    });

    /* --- watched notifications ---------------------------------------- */

    function num(v) {
        return typeof v === 'number' && isFinite(v);
    }

    function sampleOf(attrs) {
        var d = attrs.delivery || {};
        var e = attrs.engagement || {};
        var v = {};
        DELIVERY.forEach(function (k) { v[k] = num(d[k]) ? d[k] : null; });
        ENGAGEMENT.forEach(function (k) { v[k] = num(e[k]) ? e[k] : null; });
        return {t: Date.now(), v: v};
    }

    function sameValues(a, b) {
        return SERIES.every(function (s) {
            return a.v[s.key] === b.v[s.key];
        });
    }

    // a run of equal samples keeps its first and last only; beyond
    // MAX_SAMPLES every other one of the older half goes
    function addSample(item, s) {
        var n = item.samples.length;
        if (n >= 2 && sameValues(item.samples[n - 1], s)
            && sameValues(item.samples[n - 2], s)) {
            item.samples[n - 1] = s;
        } else {
            item.samples.push(s);
        }
        if (item.samples.length > MAX_SAMPLES) {
            var half = Math.floor(item.samples.length / 2);
            item.samples = item.samples.filter(function (x, i) {
                return i === 0 || i >= half || i % 2 === 0;
            });
        }
    }

    function stateOf(item) {
        var a = item.attrs || {};
        if (typeof a.state === 'string') {
            return a.state;
        }
        var d = a.delivery;
        if (!d) {
            return 'unknown';
        }
        // a server without "state" (older than campaigns)
        if (d.targeted > 0 && d.pending === 0) {
            return 'done';
        }
        return d.targeted === 0 && Date.now() - item.created > EMPTY_AFTER_MS
            ? 'done' : 'sending';
    }

    function watch(uuid, attrs) {
        var item = watched.get(uuid);
        if (!item) {
            item = {uuid: uuid, attrs: null, samples: [], created: Date.now(),
                    busy: false, nextPoll: 0, failures: 0, error: null};
            watched.set(uuid, item);
            // the oldest finished ones go first
            while (watched.size > MAX_WATCHED) {
                var old = Array.from(watched.values()).find(function (w) {
                    return FINAL[stateOf(w)] && w.uuid !== uuid;
                }) || watched.values().next().value;
                watched.delete(old.uuid);
            }
        }
        if (attrs && !item.attrs) {
            item.attrs = attrs;     // POST's answer: no delivery yet
        }
        renderList();
        return item;
    }

    function polling(item) {
        return !FINAL[stateOf(item)];
    }

    async function refresh(item) {
        if (item.busy) {
            return;
        }
        item.busy = true;
        try {
            var doc = await api('GET', '/push-notifications/'
                                       + encodeURIComponent(item.uuid));
            item.attrs = doc.data.attributes;
            item.failures = 0;
            item.error = null;
            addSample(item, sampleOf(item.attrs));
            var ahead = Date.parse(item.attrs.sendAt) - Date.now();
            item.nextPoll = Date.now()
                + (stateOf(item) === 'scheduled' && ahead > FAR_MS
                   ? FAR_POLL_MS : POLL_MS);
        } catch (err) {
            item.failures++;
            item.error = err;
            item.nextPoll = Date.now()
                + Math.min(MAX_BACKOFF_MS,
                           POLL_MS * Math.pow(2, item.failures));
            if (err.status === 404) {
                item.attrs = item.attrs || {};
                item.attrs.state = 'unknown';
                item.gone = true;
            }
        } finally {
            item.busy = false;
        }
        save();
        renderList();
        if (item.uuid === selected) {
            render();
        }
    }

    // one timer for all: each watched notification not finished is polled
    // when its time has come
    function tick() {
        var now = Date.now();
        watched.forEach(function (item) {
            if (!item.gone && polling(item) && now >= item.nextPoll) {
                refresh(item);
            }
        });
        if (selected && watched.has(selected)) {
            renderSendAt(watched.get(selected));
        }
        setTimeout(tick, 250);
    }

    function select(uuid) {
        selected = uuid;
        $('notification-error').hidden = true;
        save();
        renderList();
        render();
    }

    function audience(a) {
        if (!a || !a.group) {
            return '–';
        }
        return a.providerName + ' → ' + a.group.name
               + (a.group.identifier != null ? ' / ' + a.group.identifier
                                            : ' (no identifier)');
    }

    function when(t) {
        var d = new Date(t);
        var s = Math.round((t - Date.now()) / 1000);
        var rel = s > 0 ? 'in ' + s + ' s' : s < 0 ? -s + ' s ago' : 'now';
        if (Math.abs(s) >= 3600) {
            rel = s > 0 ? 'in ' + Math.round(s / 3600) + ' h'
                        : Math.round(-s / 3600) + ' h ago';
        } else if (Math.abs(s) >= 120) {
            rel = s > 0 ? 'in ' + Math.round(s / 60) + ' min'
                        : Math.round(-s / 60) + ' min ago';
        }
        var pad = function (n) { return (n < 10 ? '0' : '') + n; };
        return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-'
               + pad(d.getDate()) + ' ' + WebPushAdminChart.clock(t)
               + ' (' + rel + ')';
    }

    function renderSendAt(item) {
        var t = Date.parse(item.attrs && item.attrs.sendAt);
        $('n-send-at').textContent = isNaN(t) ? '— (at once)' : when(t);
    }

    function statusLine(item, state) {
        var d = (item.attrs && item.attrs.delivery) || {};
        var n = function (k) { return num(d[k]) ? d[k] : '—'; };
        if (item.gone) {
            return 'The server does not know notification ' + item.uuid + '.';
        }
        switch (state) {
        case 'scheduled':
            return 'Scheduled: nothing is sent before the time set.';
        case 'sending':
            return 'Sending…';
        case 'done':
            return 'Done: ' + n('sent') + ' sent, ' + n('failed')
                   + ' failed, ' + n('gone') + ' gone'
                   + (d.cancelled ? ', ' + d.cancelled + ' cancelled' : '')
                   + (d.targeted === 0 ? ' (no subscription in this group)'
                                       : '') + '.';
        case 'cancelled':
            return 'Cancelled: ' + n('sent') + ' sent before, '
                   + n('cancelled') + ' not sent.';
        default:
            return 'Waiting for the first figures…';
        }
    }

    function swatch(s) {
        var ns = 'http://www.w3.org/2000/svg';
        var svg = document.createElementNS(ns, 'svg');
        svg.setAttribute('viewBox', '0 0 36 10');
        svg.setAttribute('width', '36');
        svg.setAttribute('height', '10');
        svg.setAttribute('aria-hidden', 'true');
        var line = document.createElementNS(ns, 'line');
        [['x1', 0], ['x2', 36], ['y1', 5], ['y2', 5], ['stroke', s.color],
         ['stroke-width', 3], ['stroke-dasharray', s.dash || 'none']]
            .forEach(function (a) { line.setAttribute(a[0], a[1]); });
        svg.appendChild(line);
        return svg;
    }

    function renderLegend(last) {
        if (!$('legend-rows').rows.length) {
            SERIES.forEach(function (s) {
                var tbody = $(ENGAGEMENT.indexOf(s.key) < 0 ? 'legend-rows'
                              : 'legend-engagement-rows');
                var tr = document.createElement('tr');
                tr.dataset.series = s.key;
                tr.appendChild(document.createElement('td'))
                    .appendChild(swatch(s));
                tr.appendChild(cell(s.label, 'th')).scope = 'row';
                var out = document.createElement('output');
                out.id = 'd-' + s.key;
                out.dataset.series = s.key;
                var td = document.createElement('td');
                td.className = 'num';
                td.appendChild(out);
                tr.appendChild(td);
                tbody.appendChild(tr);
            });
        }
        SERIES.forEach(function (s) {
            var v = last ? last.v[s.key] : null;
            // a figure the server does not report (yet): a dash, not 0
            $('d-' + s.key).textContent = num(v) ? String(v) : '—';
            $('d-' + s.key).closest('tr').classList.toggle('absent', !num(v));
        });
        $('engagement-note').textContent = !last || num(last.v.shown) ? ''
            : 'Not reported by this server.';
    }

    function render() {
        var item = selected && watched.get(selected);
        $('notification').hidden = !item;
        if (!item) {
            return;
        }
        var a = item.attrs || {};
        var state = stateOf(item);
        var last = item.samples[item.samples.length - 1] || null;
        $('notification').dataset.state = state;
        $('notification-uuid').textContent = item.uuid;
        $('n-state').textContent = state;
        $('n-state').className = 'state state-' + state;
        $('n-audience').textContent = audience(a);
        renderSendAt(item);
        // a server without ratePerMinute ignores it: say so, the
        // notification is not paced
        $('n-rate').textContent = num(a.ratePerMinute)
            ? a.ratePerMinute + ' per minute'
            : '—' + (num(item.askedRate) && a.delivery
                     ? ' (' + item.askedRate + ' asked for; this server does'
                       + ' not report ratePerMinute, so it may not pace)'
                     : '');
        $('n-updated').textContent = last
            ? WebPushAdminChart.clock(last.t)
              + (polling(item) ? ' (every second until done)' : '')
            : '–';
        var status = statusLine(item, state);
        if ($('send-status').textContent !== status) {
            $('send-status').textContent = status;
        }
        var sendAt = Date.parse(a.sendAt);
        WebPushAdminChart.draw($('chart'), SERIES, item.samples, {
            marks: isNaN(sendAt) ? [] : [{t: sendAt, label: 'send at'}],
        });
        renderLegend(last);
        $('chart-desc').textContent = last ? SERIES.filter(function (s) {
            return num(last.v[s.key]);
        }).map(function (s) {
            return s.label + ' ' + last.v[s.key];
        }).join(', ') + ', as of ' + WebPushAdminChart.clock(last.t) + '.'
            : 'No figures yet.';
        $('cancel-notification').disabled = item.gone
            || !(state === 'scheduled' || state === 'sending');
        if (item.error) {
            $('notification-error').hidden = false;
            $('notification-error').textContent = 'Last update failed: '
                + item.error.message;
        } else if (!$('notification-error').dataset.sticky) {
            $('notification-error').hidden = true;
        }
    }

    function renderList() {
        var tbody = $('watched');
        tbody.textContent = '';
        if (!watched.size) {
            var td = cell('None yet.');
            td.colSpan = 5;
            tbody.appendChild(document.createElement('tr')).appendChild(td);
            return;
        }
        Array.from(watched.values()).reverse().forEach(function (item) {
            var a = item.attrs || {};
            var d = a.delivery || {};
            var tr = document.createElement('tr');
            tr.dataset.uuid = item.uuid;
            if (item.uuid === selected) {
                tr.setAttribute('aria-current', 'true');
            }
            var code = document.createElement('code');
            code.textContent = item.uuid.slice(0, 8) + '…';
            code.title = item.uuid;
            tr.appendChild(document.createElement('td')).appendChild(code);
            tr.appendChild(cell(audience(a)));
            tr.appendChild(cell(stateOf(item)));
            var c = cell((num(d.sent) ? d.sent : '—') + ' / '
                         + (num(d.targeted) ? d.targeted : '—'));
            c.className = 'num';
            tr.appendChild(c);
            var button = document.createElement('button');
            button.type = 'button';
            button.textContent = item.uuid === selected ? 'Shown' : 'Show';
            button.disabled = item.uuid === selected;
            button.setAttribute('aria-label', 'Show notification '
                                + item.uuid);
            button.addEventListener('click', function () {
                select(item.uuid);
                $('watch-heading').scrollIntoView();
            });
            tr.appendChild(document.createElement('td')).appendChild(button);
            tbody.appendChild(tr);
        });
    }

    $('refresh-notification').addEventListener('click', function () {
        var item = selected && watched.get(selected);
        if (item) {
            refresh(item);
        }
    });

    $('cancel-notification').addEventListener('click', async function () {
        var item = selected && watched.get(selected);
        if (!item || !window.confirm('Cancel notification ' + item.uuid
                                     + '? What has not been sent yet will'
                                     + ' never be sent.')) {
            return;
        }
        var box = $('notification-error');
        $('cancel-notification').disabled = true;
        try {
            await api('DELETE', '/push-notifications/'
                                + encodeURIComponent(item.uuid));
            delete box.dataset.sticky;
            box.hidden = true;
        } catch (err) {
            box.dataset.sticky = '1';
            box.hidden = false;
            box.textContent = 'Not cancelled: ' + apiProblems(err).join('; ');
        }
        await refresh(item);
    });

    $('watch-form').addEventListener('submit', function (e) {
        e.preventDefault();
        var uuid = $('watch-uuid').value.trim().toLowerCase();
        var item = watch(uuid);
        item.gone = false;
        item.nextPoll = 0;
        select(uuid);
        refresh(item);
        $('watch-uuid').value = '';
    });

    /* --- kept across reloads (this browser only) ------------------------ */

    function save() {
        try {
            localStorage.setItem(STORE, JSON.stringify({
                selected: selected,
                watched: Array.from(watched.values()).map(function (w) {
                    return {uuid: w.uuid, attrs: w.attrs, samples: w.samples,
                            created: w.created, gone: !!w.gone,
                            askedRate: w.askedRate};
                }),
            }));
        } catch (e) {
            // full or refused (private mode): the page works without it
        }
    }

    function restore() {
        var saved;
        try {
            saved = JSON.parse(localStorage.getItem(STORE) || 'null');
        } catch (e) {
            saved = null;
        }
        if (!saved || !Array.isArray(saved.watched)) {
            return;
        }
        saved.watched.forEach(function (w) {
            if (typeof w.uuid !== 'string' || !Array.isArray(w.samples)) {
                return;
            }
            var item = watch(w.uuid, w.attrs);
            item.samples = w.samples;
            item.created = w.created || Date.now();
            item.gone = !!w.gone;
            item.askedRate = w.askedRate;
        });
        if (saved.selected && watched.has(saved.selected)) {
            select(saved.selected);
        }
    }

    restore();
    loadProviders().catch(showError);
    WebPushAdminStatus.start(STATUS_URL);
    tick();
}());
