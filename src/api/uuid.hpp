// UUIDs as the reference makes them, plus a random one.
//
// The reference fills uuid columns with UUIDv5(NAMESPACE_OID,
// "<table>.<key columns joined by '.'>"), e.g.
// uuid_v5_oid("spy_push_notification_provider.1"); that needs the row id,
// so it is computed after the insert. uuid_v4() does not, and cannot be
// predicted from a sequence number.

#ifndef WEBPUSH_API_UUID_HPP
#define WEBPUSH_API_UUID_HPP

#include <optional>
#include <string>
#include <string_view>

namespace webpush::api {

// RFC 4122 name-based (SHA-1) UUID, lowercase, 36 characters; empty
// when OpenSSL cannot hash (SHA-1 disabled by policy).
std::string uuid_v5(const unsigned char (&namespace_id)[16],
                    std::string_view name);

// v5 in the OID namespace 6ba7b812-9dad-11d1-80b4-00c04fd430c8.
std::string uuid_v5_oid(std::string_view name);

// Random UUID from OpenSSL's RAND_bytes; nullopt when the generator
// fails (then no uuid is better than a predictable one).
std::optional<std::string> uuid_v4();

// 8-4-4-4-12 hex digits (either case). For ids taken from a URL before
// they go to the database, so that garbage gives a clean 404.
bool uuid_syntax_ok(std::string_view s) noexcept;

}  // namespace webpush::api

#endif
