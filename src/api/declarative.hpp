// Declarative Web Push (WebKit's format, Push API "declarative push
// message"): the check of a notification payload that carries
// "web_push": 8030, so that a payload Safari would refuse to show is
// refused when it is posted, not silently dropped on the device (Safari
// revokes the permission of a site whose pushes show nothing).
//
// Contract of check_declarative_payload: a payload that is not an object,
// or whose top-level "web_push" is not the number 8030, is not checked
// (nothing is appended). Otherwise every rule below that fails appends one
// problem text naming the member, e.g.
//   "payload.notification.navigate" must be an absolute https: URL
// where "payload" is the label the caller passes (the handler uses
// "payload" and, for a localized payload, "localizedPayloads.<locale>").
//
// The rules (WebKit's NotificationJSONParser plus the Push API's actions
// and top-level members):
//   - "notification" is an object;
//   - notification.title is a non-empty string;
//   - notification.navigate is an absolute https: URL with a host;
//   - notification.actions, when present, is an array of objects, each
//     with a non-empty string "title", an absolute https: "navigate",
//     "action" a string when present, "icon" an absolute URL when present;
//   - "app_badge", top level or inside notification, wherever present, is
//     an integer >= 0;
//   - "mutable", top level or inside notification, is a boolean when
//     present;
//   - notification.dir is "auto", "ltr" or "rtl" when present;
//     notification.lang, .body and .tag are strings when present;
//     notification.icon is an absolute URL when present; notification.silent
//     is a boolean when present.
// Other members (data, image, badge, vibrate...) are not checked.
//
// Pure C++ over jansson, no nginx headers; never throws except
// std::bad_alloc from the string and vector operations.

#ifndef WEBPUSH_API_DECLARATIVE_HPP
#define WEBPUSH_API_DECLARATIVE_HPP

#include <string>
#include <string_view>
#include <vector>

#include <jansson.h>

namespace webpush::api {

// The "web_push" magic value of a declarative push message.
inline constexpr int kDeclarativeWebPush = 8030;

// True when payload is an object whose "web_push" is the number 8030
// (an integer, or a real that WebKit truncates to 8030).
bool is_declarative_payload(const json_t* payload) noexcept;

// See the contract above. label names payload in the problem texts.
void check_declarative_payload(const json_t* payload, std::string_view label,
                               std::vector<std::string>& problems);

// "https://" followed by a non-empty host (optionally with user info and
// a port of at most 65535), without spaces or control characters;
// the scheme is case-insensitive.
bool absolute_https_url(std::string_view url) noexcept;

// scheme ":" rest, with an RFC 3986 scheme and a non-empty rest, without
// spaces or control characters (what WebKit's URL accepts without a base).
bool absolute_url(std::string_view url) noexcept;

}  // namespace webpush::api

#endif
