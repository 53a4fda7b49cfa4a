// The admin page's notification form (admin.html, "New notification"):
// the payload JSON and its title/body/icon/url helper, payloads per
// locale, sendAt in the admin's local time sent as UTC, and the
// Idempotency-Key of the form's content. admin.js sends what build()
// returns.
'use strict';

(function () {
    var $ = function (id) { return document.getElementById(id); };
    var formKey = null;             // Idempotency-Key of the form's content
    var localeRows = 0;

    // the Idempotency-Key: random, in a secure context from randomUUID(),
    // elsewhere (plain http to another host) from getRandomValues()
    function newKey() {
        if (window.crypto && typeof crypto.randomUUID === 'function') {
            return crypto.randomUUID();
        }
        var b = crypto.getRandomValues(new Uint8Array(16));
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        var h = Array.from(b, function (x) {
            return (x + 0x100).toString(16).slice(1);
        }).join('');
        return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16)
               + '-' + h.slice(16, 20) + '-' + h.slice(20);
    }

    // any change of the form makes it another request: a new key then;
    // the same content sent again (a double click, a retry after a lost
    // answer) keeps the key, and the server answers with the notification
    // it already created
    function formChanged() {
        formKey = null;
    }

    // the four helper fields written into the payload JSON
    function syncPayload() {
        var box = $('send-payload');
        var obj;
        try {
            obj = box.value.trim() ? JSON.parse(box.value) : {};
        } catch (e) {
            return;                 // the admin is editing the JSON itself
        }
        if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
            return;
        }
        [['title', 'send-title'], ['body', 'send-body'],
         ['icon', 'send-icon'], ['url', 'send-url']].forEach(function (f) {
            if ($(f[1]).value) {
                obj[f[0]] = $(f[1]).value;
            } else {
                delete obj[f[0]];
            }
        });
        box.value = JSON.stringify(obj, null, 2);
    }

    function parseObject(text, what, problems) {
        try {
            var v = JSON.parse(text);
            if (v && typeof v === 'object' && !Array.isArray(v)) {
                return v;
            }
            problems.push(what + ' must be a JSON object.');
        } catch (e) {
            problems.push(what + ' is not valid JSON: ' + e.message);
        }
        return null;
    }

    function addLocale(name, payload) {
        var n = ++localeRows;
        var row = document.createElement('div');
        row.className = 'locale-row';
        row.setAttribute('role', 'group');
        row.setAttribute('aria-label', 'Locale payload ' + n);
        var label1 = document.createElement('label');
        label1.htmlFor = 'locale-name-' + n;
        label1.textContent = 'Locale';
        var input = document.createElement('input');
        input.id = 'locale-name-' + n;
        input.className = 'locale-name';
        input.placeholder = 'de_DE';
        input.required = true;
        input.value = name || '';
        var label2 = document.createElement('label');
        label2.htmlFor = 'locale-payload-' + n;
        label2.textContent = 'Payload (JSON)';
        var area = document.createElement('textarea');
        area.id = 'locale-payload-' + n;
        area.className = 'locale-payload code';
        area.rows = 4;
        area.spellcheck = false;
        area.required = true;
        area.value = payload || $('send-payload').value;
        var remove = document.createElement('button');
        remove.type = 'button';
        remove.textContent = 'Remove';
        remove.setAttribute('aria-label', 'Remove locale payload ' + n);
        remove.addEventListener('click', function () {
            row.remove();
            formChanged();
            $('add-locale').focus();
        });
        [label1, input, label2, area, remove].forEach(function (e) {
            row.appendChild(e);
        });
        $('locales').appendChild(row);
        formChanged();
        return input;
    }

    // RFC 3339 in UTC, whole seconds: the datetime-local value is the
    // admin's local time
    function sendAtValue() {
        var v = $('send-at').value;
        if (!v) {
            return null;
        }
        var t = new Date(v);
        return isNaN(t.getTime()) ? undefined
            : t.toISOString().replace(/\.\d{3}Z$/, 'Z');
    }

    function showSendAt() {
        var v = sendAtValue();
        $('send-at-hint').textContent = v === null ? 'Empty: now.'
            : v === undefined ? 'Not a date.'
            : 'Sent as ' + v + ' (UTC)';
        $('send-submit').textContent = v ? 'Schedule' : 'Send';
    }

    // {attributes, problems}
    function buildRequest() {
        var problems = [];
        var group = {name: $('send-group').value};
        if ($('send-identifier').value !== '') {
            group.identifier = $('send-identifier').value;
        }
        var a = {providerName: $('send-provider').value, group: group};
        a.payload = parseObject($('send-payload').value, 'The payload',
                                problems);
        var locales = {};
        var count = 0;
        document.querySelectorAll('#locales .locale-row').forEach(
            function (row) {
                var name = row.querySelector('.locale-name').value.trim();
                var what = 'The payload of locale "' + name + '"';
                if (!name) {
                    problems.push('A locale row has no locale name.');
                } else if (Object.prototype.hasOwnProperty.call(locales,
                                                                name)) {
                    problems.push('The locale "' + name + '" is there twice.');
                }
                locales[name] = parseObject(
                    row.querySelector('.locale-payload').value, what,
                    problems);
                count++;
            });
        if (count) {
            a.localizedPayloads = locales;
        }
        var sendAt = sendAtValue();
        if (sendAt === undefined) {
            problems.push('"Send at" is not a date.');
        } else if (sendAt) {
            a.sendAt = sendAt;
        }
        [['ratePerMinute', 'send-rate', 1, '"Per minute at most"'],
         ['ttl', 'send-ttl', 0, 'The TTL']].forEach(function (f) {
            var v = $(f[1]).value;
            if (v === '') {
                return;
            }
            var n = Number(v);
            if (!Number.isInteger(n) || n < f[2]) {
                problems.push(f[3] + ' must be a whole number of at least '
                              + f[2] + '.');
            }
            a[f[0]] = n;
        });
        if ($('send-urgency').value) {
            a.urgency = $('send-urgency').value;
        }
        if ($('send-topic').value !== '') {
            a.topic = $('send-topic').value;
        }
        return {attributes: a, problems: problems};
    }

    $('send-form').addEventListener('input', formChanged);
    $('send-form').addEventListener('change', formChanged);
    ['send-title', 'send-body', 'send-icon', 'send-url'].forEach(
        function (id) { $(id).addEventListener('input', syncPayload); });
    $('send-at').addEventListener('input', showSendAt);
    $('add-locale').addEventListener('click', function () {
        addLocale().focus();
    });

    syncPayload();
    showSendAt();

    window.WebPushAdminForm = {
        // {attributes, problems}: the POST's attributes, or what is wrong
        build: buildRequest,
        // the key of what the form holds now (made on first use)
        key: function () {
            if (!formKey) {
                formKey = newKey();
            }
            return formKey;
        },
    };
}());
