// The demo page: subscribe / unsubscribe this browser with webpush.js.
'use strict';

(function () {
    var $ = function (id) { return document.getElementById(id); };

    function options() {
        var identifier = $('group-identifier').value.trim();
        return {
            providerName: $('provider').value.trim(),
            group: identifier ? {name: $('group-name').value.trim(),
                                 identifier: identifier}
                              : {name: $('group-name').value.trim()}
        };
    }

    function showError(err) {
        var box = $('error');
        if (!err) {
            box.hidden = true;
            box.textContent = '';
            return;
        }
        var text = err.name + ': ' + err.message;
        if (err.code) {
            text += ' (code ' + err.code + ')';
        }
        box.textContent = text;
        box.hidden = false;
    }

    async function refresh(message) {
        var s = await WebPush.status();
        $('permission').textContent = s.permission;
        $('uuid').textContent = s.uuid || '–';
        $('endpoint').textContent = s.endpoint || '–';
        $('subscribe').disabled = !s.supported;
        $('unsubscribe').disabled = !s.subscribed;
        $('status').textContent = message
            || (!s.supported ? 'Not supported: ' + s.reason
                : s.subscribed ? 'Subscribed.'
                : 'Not subscribed.');
        document.body.dataset.state = s.subscribed ? 'subscribed'
                                                   : 'unsubscribed';
        return s;
    }

    async function run(label, fn) {
        showError(null);
        $('status').textContent = label + '…';
        document.body.dataset.state = 'busy';
        try {
            await fn();
            await refresh();
        } catch (err) {
            showError(err);
            await refresh('Failed.');
        }
    }

    $('subscribe-form').addEventListener('submit', function (e) {
        e.preventDefault();
        run('Subscribing', function () {
            return WebPush.subscribe(options());
        });
    });

    $('unsubscribe').addEventListener('click', function () {
        run('Unsubscribing', function () {
            return WebPush.unsubscribe();
        });
    });

    refresh().catch(showError);
}());
