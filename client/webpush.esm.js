/*
 * webpush.esm.js: the client kit as an ES module.
 *
 *   import { subscribe, unsubscribe, status } from '/webpush.esm.js';
 *   import WebPush from '/webpush.esm.js';
 *
 * webpush.js holds the code (a classic script defining globalThis.WebPush);
 * this file imports it for that side effect and re-exports its members.
 */
import './webpush.js';

const WebPush = globalThis.WebPush;

export const {
    configure, subscribe, unsubscribe, status, isSupported, defaults,
    WebPushError, UnsupportedError, PermissionError, ServerError,
    NetworkError, PushServiceError
} = WebPush;

export default WebPush;
