// The admin page: providers and notifications over the module's JSON:API.
// The page and these endpoints sit behind auth_basic in conf/nginx.conf;
// the browser resends the credentials with every same-origin fetch.
'use strict';

(function () {
    var API = document.documentElement.dataset.apiBase || '/api';
    var JSONAPI = 'application/vnd.api+json';
    var POLL_MS = 1000;
    var POLL_LIMIT_MS = 5 * 60 * 1000;
    var EMPTY_AFTER_MS = 10 * 1000;
    var $ = function (id) { return document.getElementById(id); };
    var poller = null;

    async function api(method, path, body) {
        var init = {method: method, headers: {Accept: JSONAPI},
                    credentials: 'same-origin'};
        if (body !== undefined) {
            init.headers['Content-Type'] = JSONAPI;
            init.body = JSON.stringify(body);
        }
        var res = await fetch(API + path, init);
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
                return e.message + (e.code ? ' (code ' + e.code + ')' : '');
            }).join('; ');
            throw new Error(method + ' ' + API + path + ': HTTP '
                            + res.status + (msg ? ' – ' + msg : ''));
        }
        return doc;
    }

    function showError(err) {
        $('error').hidden = !err;
        $('error').textContent = err ? err.message : '';
    }

    function cell(text) {
        var td = document.createElement('td');
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
            var tr = document.createElement('tr');
            var td = cell('No provider yet: create one above.');
            td.colSpan = 2;
            tr.appendChild(td);
            tbody.appendChild(tr);
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

    function showDelivery(d) {
        ['targeted', 'sent', 'pending', 'failed', 'gone'].forEach(function (k) {
            $('d-' + k).textContent = d && d[k] != null ? d[k] : '–';
        });
    }

    function poll(uuid) {
        var started = Date.now();
        if (poller) {
            clearTimeout(poller);
        }
        async function tick() {
            try {
                var doc = await api('GET', '/push-notifications/'
                                           + encodeURIComponent(uuid));
                var d = doc.data.attributes.delivery || {};
                showDelivery(d);
                // targeted stays 0 until the fan-out has found the group's
                // subscriptions, and for good when it has none
                var done = d.targeted > 0 && d.pending === 0;
                var empty = d.targeted === 0
                            && Date.now() - started > EMPTY_AFTER_MS;
                $('send-status').textContent = done
                    ? 'Done: ' + d.sent + ' sent, ' + d.failed + ' failed, '
                      + d.gone + ' gone.'
                    : empty ? 'No subscription in this group.'
                    : 'Sending…';
                if (done || empty || Date.now() - started > POLL_LIMIT_MS) {
                    poller = null;
                    return;
                }
            } catch (err) {
                showError(err);
            }
            poller = setTimeout(tick, POLL_MS);
        }
        tick();
    }

    $('provider-form').addEventListener('submit', async function (e) {
        e.preventDefault();
        showError(null);
        try {
            await api('POST', '/push-notification-providers', {
                data: {type: 'push-notification-providers',
                       attributes: {name: $('provider-name').value}}
            });
            $('send-provider').value = $('provider-name').value;
            await loadProviders();
            $('send-provider').value = $('provider-name').value;
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
        showError(null);
        var group = {name: $('send-group').value};
        if ($('send-identifier').value !== '') {
            group.identifier = $('send-identifier').value;
        }
        var payload = {title: $('send-title').value,
                       body: $('send-body').value};
        if ($('send-icon').value) {
            payload.icon = $('send-icon').value;
        }
        if ($('send-url').value) {
            payload.url = $('send-url').value;
        }
        var attributes = {providerName: $('send-provider').value,
                          group: group, payload: payload};
        if ($('send-urgency').value) {
            attributes.urgency = $('send-urgency').value;
        }
        if ($('send-ttl').value !== '') {
            attributes.ttl = Number($('send-ttl').value);
        }
        try {
            var doc = await api('POST', '/push-notifications', {
                data: {type: 'push-notifications', attributes: attributes}
            });
            $('notification-uuid').textContent = doc.data.id;
            showDelivery(null);
            $('send-status').textContent = 'Queued.';
            poll(doc.data.id);
        } catch (err) {
            showError(err);
        }
    });

    loadProviders().catch(showError);
}());
