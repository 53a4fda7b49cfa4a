/*
 * webpush-sw.js: the service worker of the ngx_http_webpush_module client
 * kit. webpush.js registers it (default /webpush-sw.js, scope /).
 *
 * push               shows a notification from the JSON payload
 *                    {"title", "body", "icon", "badge", "image", "tag", "url"}
 *                    (also {"notification": {..., "navigate"}}); a payload
 *                    that is not a JSON object is shown as the body text
 *                    under a generic title, an empty one as the generic
 *                    title alone. Open pages then get a message
 *                    {type: 'webpush:notification', title, options}.
 *                    Declarative Web Push ({"web_push": 8030, "notification":
 *                    {"title", "body", "icon", "lang", "dir", "tag",
 *                    "silent", "navigate", "actions": [{"action", "title",
 *                    "navigate", "icon"}], "app_badge"}, "app_badge"}) is
 *                    rendered as Safari renders it: the actions become
 *                    notification actions, app_badge (top level first, else
 *                    inside notification) goes to navigator.setAppBadge
 *                    where the browser has it. When the browser already
 *                    parsed the message itself (Safari, a "mutable" one:
 *                    the push event has a notification), nothing is shown
 *                    twice.
 * notificationclick  focuses an open window showing the notification's url,
 *                    or opens one (the url defaults to the worker's scope);
 *                    a click on a declarative action opens that action's
 *                    navigate.
 * engagement         when the payload carries "webpushEvent" (a token the
 *                    module signs into each payload when it has a
 *                    webpush_events location), the worker POSTs
 *                    {"type": "shown"|"clicked"|"closed", "event": token} to
 *                    the events URL once the notification is shown, when
 *                    it is clicked, and when the user closes it. The URL:
 *                    self.webpushEventsUrl (set before importScripts), else
 *                    ?eventsUrl= on this script's URL, else what webpush.js
 *                    stored when the page subscribed (its eventsUrl
 *                    option), else /webpush/events; an empty value turns
 *                    reports off. A report is a keepalive fetch that never
 *                    holds up or breaks the notification.
 * pushsubscriptionchange
 *                    re-subscribes with the same VAPID key, POSTs the new
 *                    subscription for every group the page subscribed to
 *                    and DELETEs the old uuids, using what webpush.js
 *                    stored in IndexedDB ('webpush' / 'kv' / 'state').
 *
 * A site with its own service worker can use this one's handlers with
 * importScripts('/webpush-sw.js') instead of registering it.
 */
'use strict';

var WEBPUSH_DEFAULT_TITLE = 'New notification';
var WEBPUSH_JSONAPI = 'application/vnd.api+json';
var WEBPUSH_EVENTS_DEFAULT = '/webpush/events';

// --- push -------------------------------------------------------------------

function webpushText(value) {
    return typeof value === 'string' ? value
        : typeof value === 'number' ? String(value) : '';
}

// a url the notification may open: http(s), same site or not, made absolute
function webpushUrl(value) {
    var scope = self.registration.scope;
    if (typeof value !== 'string' || value === '') {
        return scope;
    }
    try {
        var u = new URL(value, scope);
        return u.protocol === 'https:' || u.protocol === 'http:' ? u.href
                                                                 : scope;
    } catch (e) {
        return scope;
    }
}

/* Declarative Web Push (WebKit, Push API): {"web_push": 8030,
 * "notification": {...}}. The server checked it (title, https navigate,
 * actions, app_badge); the worker still copes with anything. */
function webpushIsDeclarative(json) {
    return json !== null && typeof json === 'object'
        && typeof json.web_push === 'number'
        && Math.trunc(json.web_push) === 8030
        && json.notification !== null
        && typeof json.notification === 'object'
        && !Array.isArray(json.notification);
}

// app_badge: top level (the Push API) or inside notification (WebKit)
function webpushAppBadge(json) {
    var n = json.notification || {};
    var b = json.app_badge !== undefined ? json.app_badge : n.app_badge;
    return Number.isInteger(b) && b >= 0 ? b : null;
}

function webpushDeclarative(json) {
    var n = json.notification;
    var options = {
        body: webpushText(n.body),
        data: {url: webpushUrl(n.navigate), payload: json, actions: {}}
    };
    ['icon', 'badge', 'image', 'tag', 'lang'].forEach(function (k) {
        var v = webpushText(n[k]);
        if (v !== '') {
            options[k] = v;
        }
    });
    if (n.dir === 'auto' || n.dir === 'ltr' || n.dir === 'rtl') {
        options.dir = n.dir;
    }
    if (options.tag) {
        options.renotify = n.renotify === true;
    }
    if (n.requireInteraction === true) {
        options.requireInteraction = true;
    }
    if (n.silent === true) {
        options.silent = true;
    }
    if (typeof n.timestamp === 'number') {
        options.timestamp = n.timestamp;
    }
    if (Array.isArray(n.actions)) {
        var max = self.Notification && self.Notification.maxActions;
        var actions = [];
        n.actions.forEach(function (a, i) {
            if (!a || typeof a !== 'object' || webpushText(a.title) === '') {
                return;
            }
            var name = webpushText(a.action) || 'webpush-action-' + i;
            var action = {action: name, title: webpushText(a.title)};
            if (webpushText(a.icon) !== '') {
                action.icon = webpushText(a.icon);
            }
            actions.push(action);
            options.data.actions[name] = webpushUrl(a.navigate);
        });
        if (actions.length) {
            options.actions = typeof max === 'number' && max >= 0
                ? actions.slice(0, max) : actions;
        }
    }
    return {
        title: webpushText(n.title).trim() || WEBPUSH_DEFAULT_TITLE,
        options: options,
        badge: webpushAppBadge(json)
    };
}

// the app badge of a declarative message, where the browser has badges
function webpushSetBadge(count) {
    var nav = self.navigator;
    if (count === null || !nav || typeof nav.setAppBadge !== 'function') {
        return Promise.resolve();
    }
    var p = count === 0 && typeof nav.clearAppBadge === 'function'
        ? nav.clearAppBadge() : nav.setAppBadge(count);
    return Promise.resolve(p).catch(function () {});
}

// a push message's data (a PushMessageData or null): {text, json}
function webpushMessage(data) {
    var text = '';
    if (data) {
        try {
            text = data.text();
        } catch (e) {
            text = '';
        }
    }
    var json = null;
    if (text.trim() !== '') {
        try {
            json = JSON.parse(text);
        } catch (e) {
            json = null;
        }
    }
    return {text: text, json: json};
}

/* The notification to show for a push message's data (a PushMessageData or
 * null): {title, options}; options.data.event holds the message's
 * engagement token, if it has one. */
function webpushNotificationFor(data) {
    var m = webpushMessage(data);
    var n = webpushNotificationOf(m.text, m.json);
    var token = webpushEventToken(m.json);
    if (token) {
        n.options.data.event = token;
    }
    return n;
}

function webpushNotificationOf(text, json) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
        var body = typeof json === 'string' ? json : text.trim();
        return {
            title: WEBPUSH_DEFAULT_TITLE,
            options: {body: body, data: {url: webpushUrl(null)}}
        };
    }

    if (webpushIsDeclarative(json)) {
        return webpushDeclarative(json);
    }

    // other payloads that nest it under "notification"
    var n = json.notification && typeof json.notification === 'object'
            ? json.notification : json;
    var options = {
        body: webpushText(n.body),
        data: {url: webpushUrl(n.url || n.navigate || json.url),
               payload: json}
    };
    ['icon', 'badge', 'image', 'tag', 'lang'].forEach(function (k) {
        var v = webpushText(n[k]);
        if (v !== '') {
            options[k] = v;
        }
    });
    if (options.tag) {
        options.renotify = n.renotify === true;
    }
    if (n.requireInteraction === true) {
        options.requireInteraction = true;
    }
    if (n.silent === true) {
        options.silent = true;
    }
    return {
        title: webpushText(n.title).trim() || WEBPUSH_DEFAULT_TITLE,
        options: options
    };
}

/* Shows the notification, then tells the open pages (a message
 * {type: 'webpush:notification', title, options} on
 * navigator.serviceWorker), e.g. to refresh what they display. */
async function webpushShow(n) {
    if (n.badge !== undefined) {
        await webpushSetBadge(n.badge);
    }
    await self.registration.showNotification(n.title, n.options);
    var windows = await self.clients.matchAll({type: 'window',
                                               includeUncontrolled: true});
    windows.forEach(function (c) {
        c.postMessage({type: 'webpush:notification', title: n.title,
                       options: n.options});
    });
}

self.addEventListener('push', function (event) {
    if (event.notification) {
        // the browser parsed a declarative message itself and shows it
        // unless we show another one (Safari, "mutable": true): keep it,
        // and count it shown
        event.waitUntil(webpushReport('shown', webpushEventToken(
            webpushMessage(event.data).json)));
        return;
    }
    var n = webpushNotificationFor(event.data);
    // reported once it is shown: a notification that failed to show is
    // not counted
    event.waitUntil(webpushShow(n).then(function () {
        return webpushReport('shown', n.options.data.event);
    }));
});

// --- engagement (webpush_events) -------------------------------------------

// the token the module signed into the payload, or null
function webpushEventToken(json) {
    return json !== null && typeof json === 'object'
        && typeof json.webpushEvent === 'string' && json.webpushEvent !== ''
        ? json.webpushEvent : null;
}

/* Where reports go (see the top of this file); null: nowhere. Named so
 * that nothing here overwrites self.webpushEventsUrl, a site's setting. */
async function webpushReportUrl() {
    var url;
    if (typeof self.webpushEventsUrl === 'string') {
        url = self.webpushEventsUrl;
    } else if (new URL(self.location.href).searchParams.has('eventsUrl')) {
        url = new URL(self.location.href).searchParams.get('eventsUrl');
    } else {
        var state = null;
        try {
            state = await webpushIdb('readonly', function (s) {
                return s.get('state');
            });
        } catch (e) {
            state = null;
        }
        url = state && typeof state.eventsUrl === 'string'
            ? state.eventsUrl : WEBPUSH_EVENTS_DEFAULT;
    }
    if (url === '') {
        return null;
    }
    try {
        return new URL(url, self.location.href).href;
    } catch (e) {
        return null;
    }
}

/* POSTs one report; resolves either way. A "simple" request (text/plain,
 * no credentials): no CORS preflight when the events URL is on another
 * origin, and the answer is not needed. keepalive: it completes even when
 * the worker is stopped right after. */
async function webpushReport(type, token) {
    if (!token) {
        return;
    }
    try {
        var url = await webpushReportUrl();
        if (!url) {
            return;
        }
        await fetch(url, {
            method: 'POST', mode: 'no-cors', credentials: 'omit',
            cache: 'no-store', keepalive: true,
            body: JSON.stringify({type: type, event: token})
        });
    } catch (e) {
        // offline, blocked: the count misses one, nothing else does
    }
}

// --- notificationclick ------------------------------------------------------

/* Focuses a window showing `url` or opens one; resolves to the client (null
 * when the browser would not open a window). */
async function webpushOpen(url) {
    var windows = await self.clients.matchAll({type: 'window',
                                               includeUncontrolled: true});
    for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && 'focus' in windows[i]) {
            return windows[i].focus();
        }
    }
    return self.clients.openWindow(url);
}

self.addEventListener('notificationclick', function (event) {
    var data = event.notification.data || {};
    var url = data.url;
    if (event.action && data.actions
            && typeof data.actions[event.action] === 'string') {
        url = data.actions[event.action];
    }
    event.notification.close();
    // the window first: a click allows opening one only for a short while
    var opened = webpushOpen(webpushUrl(url));
    event.waitUntil(Promise.all([opened,
                                 webpushReport('clicked', data.event)]));
});

// closed by the user (not by a click: the click handler closes it itself,
// which fires no event)
self.addEventListener('notificationclose', function (event) {
    var data = event.notification.data || {};
    event.waitUntil(webpushReport('closed', data.event));
});

// --- pushsubscriptionchange -------------------------------------------------

function webpushIdb(mode, fn) {
    return new Promise(function (resolve, reject) {
        var open = self.indexedDB.open('webpush', 1);
        open.onupgradeneeded = function () {
            open.result.createObjectStore('kv');
        };
        open.onerror = function () { reject(open.error); };
        open.onsuccess = function () {
            var db = open.result;
            var tx = db.transaction('kv', mode);
            var req = fn(tx.objectStore('kv'));
            var result;
            req.onsuccess = function () { result = req.result; };
            tx.oncomplete = function () { db.close(); resolve(result); };
            tx.onerror = tx.onabort = function () {
                db.close();
                reject(tx.error);
            };
        };
    });
}

function webpushB64urlToBytes(s) {
    var b64 = String(s).replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) {
        b64 += '=';
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
        out[i] = bin.charCodeAt(i);
    }
    return out;
}

async function webpushApi(method, url, body) {
    var init = {method: method, headers: {Accept: WEBPUSH_JSONAPI},
                credentials: 'same-origin'};
    if (body !== undefined) {
        init.headers['Content-Type'] = WEBPUSH_JSONAPI;
        init.body = JSON.stringify(body);
    }
    var res = await fetch(url, init);
    var text = await res.text();
    var doc = null;
    try {
        doc = text ? JSON.parse(text) : null;
    } catch (e) {
        doc = null;
    }
    if (!res.ok && !(method === 'DELETE' && res.status === 404)) {
        var msg = doc && Array.isArray(doc.errors)
            ? doc.errors.map(function (e) { return e.message; }).join('; ')
            : '';
        var err = new Error(method + ' ' + url + ': HTTP ' + res.status
                            + (msg ? ' ' + msg : ''));
        err.status = res.status;
        err.code = doc && Array.isArray(doc.errors) && doc.errors.length
                   ? String(doc.errors[0].code) : null;
        throw err;
    }
    return doc;
}

/* Replaces the stored subscriptions by `newSub` (or a fresh one made with
 * the old key when the browser gave none). Resolves to the new state. */
async function webpushResubscribe(oldSub, newSub) {
    var state = await webpushIdb('readonly', function (s) {
        return s.get('state');
    });
    if (!state || !Array.isArray(state.records) || !state.records.length) {
        return null;                // the page never subscribed a group
    }

    var sub = newSub;
    if (!sub) {
        var key = oldSub && oldSub.options
                  && oldSub.options.applicationServerKey;
        if (!key && state.applicationServerKey) {
            key = webpushB64urlToBytes(state.applicationServerKey);
        }
        if (!key && state.keyUrl) {
            var k = await webpushApi('GET', state.keyUrl);
            key = webpushB64urlToBytes(k.publicKey);
        }
        sub = await self.registration.pushManager.subscribe({
            userVisibleOnly: true, applicationServerKey: key
        });
    }
    var json = typeof sub.toJSON === 'function' ? sub.toJSON() : sub;

    var records = [];
    for (var i = 0; i < state.records.length; i++) {
        var r = state.records[i];
        var base = r.apiBase.replace(/\/+$/, '')
                   + '/push-notification-subscriptions';
        var attributes = {providerName: r.providerName, group: r.group,
                          payload: json};
        if (r.localeName) {
            attributes.localeName = r.localeName;
        }
        if (r.token) {
            attributes.token = r.token;
        }
        var doc;
        try {
            doc = await webpushApi('POST', base, {
                data: {type: 'push-notification-subscriptions',
                       attributes: attributes}
            });
        } catch (e) {
            if (e.code === '5003') {
                records.push(r);    // the server already has this one
                continue;
            }
            if (e.code === '5010') {
                // the token expired: only the page can get a new one; the
                // old row's endpoint is dead, drop it and the record
                await webpushApi('DELETE', base + '/'
                                 + encodeURIComponent(r.uuid))
                    .catch(function () {});
                continue;
            }
            throw e;
        }
        // the new row is stored: now the old one can go (404 is fine)
        await webpushApi('DELETE', base + '/' + encodeURIComponent(r.uuid));
        records.push(Object.assign({}, r, {
            uuid: doc.data.id,
            expiredAt: doc.data.attributes && doc.data.attributes.expiredAt
                       || null
        }));
    }

    state.records = records;
    state.endpoint = json.endpoint;
    state.updatedAt = Date.now();
    await webpushIdb('readwrite', function (s) {
        return s.put(state, 'state');
    });
    var windows = await self.clients.matchAll({type: 'window',
                                               includeUncontrolled: true});
    windows.forEach(function (c) {
        c.postMessage({type: 'webpush:state', state: state});
    });
    return state;
}

self.addEventListener('pushsubscriptionchange', function (event) {
    event.waitUntil(webpushResubscribe(event.oldSubscription || null,
                                       event.newSubscription || null));
});

// --- lifecycle --------------------------------------------------------------

// a new version takes over at once; it keeps no caches to migrate
self.addEventListener('install', function () {
    self.skipWaiting();
});

self.addEventListener('activate', function (event) {
    event.waitUntil(self.clients.claim());
});
