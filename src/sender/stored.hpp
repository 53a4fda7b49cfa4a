// A subscription as stored in spy_push_notification_subscription.payload
// (the browser's PushSubscription JSON, PHP-encoded, or anything another
// producer wrote there), reduced to what a delivery needs.  Pure C++.

#ifndef WEBPUSH_SENDER_STORED_HPP
#define WEBPUSH_SENDER_STORED_HPP

#include <optional>
#include <string>
#include <string_view>

namespace webpush::sender {

struct StoredSubscription {
    std::string endpoint;
    std::string p256dh;      // as stored: base64url or base64
    std::string auth;
    bool aesgcm = false;     // "contentEncoding": "aesgcm"
};

// Reads keys from "keys":{"p256dh","auth"} or "publicKey"+"authToken"
// (that pair first, as the subscription validator does).  nullopt and a
// reason when the JSON is not an object, the endpoint or a key is missing
// or not a string, or contentEncoding is neither aes128gcm nor aesgcm.
std::optional<StoredSubscription> parse_stored_subscription(
    std::string_view json, std::string& reason);

}  // namespace webpush::sender

#endif
