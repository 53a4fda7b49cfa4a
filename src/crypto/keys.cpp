#include "crypto/keys.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>

#include "crypto/base64.hpp"
#include "crypto/ossl.hpp"

namespace webpush::crypto {

namespace {

// A VAPID key file is a few hundred bytes; anything much larger is not one.
constexpr size_t max_key_file = 64 * 1024;

bool
is_p256_name(std::string_view name)
{
    return name == "prime256v1" || name == "P-256" || name == "secp256r1";
}

// Refuses to prompt: without it OpenSSL would ask for a passphrase on the
// terminal when it meets an encrypted key, blocking "nginx -t".
int
no_passphrase(char *, int, int, void *)
{
    return -1;
}

bool
export_public(EVP_PKEY *pkey, P256Point &out)
{
    // X and Y as numbers rather than the encoded point: the encoded form
    // follows the key's own conversion format, which a SEC1 file may set
    // to "compressed".
    BIGNUM *x = nullptr;
    BIGNUM *y = nullptr;

    bool ok = EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1
              && EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y)
                     == 1;
    BnPtr xp(x);
    BnPtr yp(y);

    if (!ok) {
        return false;
    }

    out[0] = 0x04;
    return BN_bn2binpad(x, out.data() + 1, 32) == 32
           && BN_bn2binpad(y, out.data() + 33, 32) == 32;
}

bool
starts_with_ci(std::string_view s, std::string_view prefix)
{
    if (s.size() < prefix.size()) {
        return false;
    }

    for (size_t i = 0; i < prefix.size(); i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (c != prefix[i]) {
            return false;
        }
    }

    return true;
}

bool
ends_with_ci(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size()
           && starts_with_ci(s.substr(s.size() - suffix.size()), suffix);
}

bool
is_localhost(std::string_view host)
{
    if (!host.empty() && host.back() == '.') {
        host.remove_suffix(1);
    }

    // RFC 6761 reserves every name under "localhost." as well.
    return (host.size() == 9 && starts_with_ci(host, "localhost"))
           || ends_with_ci(host, ".localhost");
}

bool
check_mailto(std::string_view addr, std::string &reason)
{
    if (starts_with_ci(addr, "mailto:")) {
        reason = "repeats \"mailto:\"";
        return false;
    }

    if (addr.empty()) {
        reason = "has an empty mailto: address";
        return false;
    }

    // hfields ("?subject=...") are legal in a mailto: URI but not part of
    // the address.
    addr = addr.substr(0, addr.find('?'));

    size_t at = addr.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == addr.size()) {
        reason = "mailto: address must look like user@example.com";
        return false;
    }

    if (is_localhost(addr.substr(at + 1))) {
        reason = "uses the host \"localhost\", which push services reject";
        return false;
    }

    return true;
}

bool
check_https(std::string_view rest, std::string &reason)
{
    if (rest.substr(0, 2) != "//") {
        reason = "https: subject must be a URL such as https://example.com/";
        return false;
    }

    rest.remove_prefix(2);
    std::string_view host = rest.substr(0, rest.find_first_of("/?#"));

    size_t at = host.rfind('@');
    if (at != std::string_view::npos) {
        host.remove_prefix(at + 1);
    }

    if (!host.empty() && host[0] == '[') {
        size_t end = host.find(']');
        host = host.substr(0, end == std::string_view::npos ? 0 : end + 1);
    } else {
        host = host.substr(0, host.find(':'));
    }

    if (host.empty()) {
        reason = "has no host";
        return false;
    }

    if (is_localhost(host)) {
        reason = "uses the host \"localhost\", which push services reject";
        return false;
    }

    return true;
}

// A P-256 key holding only the group, made once per thread (an nginx
// worker has one).  Importing a point by duplicating it and setting the
// public key costs a quarter of EVP_PKEY_fromdata(), which rebuilds the
// curve from its name (constants, Montgomery contexts) on every call.
EVP_PKEY *
p256_template()
{
    thread_local PkeyPtr key = [] {
        PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        char group[] = "prime256v1";
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                             group, 0),
            OSSL_PARAM_construct_end(),
        };
        EVP_PKEY *pkey = nullptr;

        if (ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1) {
            EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_KEY_PARAMETERS,
                              params);
        }
        return PkeyPtr(pkey);
    }();

    return key.get();
}

}  // namespace

std::optional<VapidKey>
VapidKey::load_file(const std::string &path, std::string &reason)
try {
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) {
        reason = "cannot read \"" + path + "\": " + std::strerror(errno);
        return std::nullopt;
    }

    std::string pem(max_key_file + 1, '\0');
    size_t n = std::fread(pem.data(), 1, pem.size(), f);
    int err = std::ferror(f) ? errno : 0;
    std::fclose(f);

    if (err != 0) {
        reason = "cannot read \"" + path + "\": " + std::strerror(err);
        return std::nullopt;
    }

    if (n > max_key_file) {
        reason = "\"" + path + "\" is too large for a PEM private key";
        return std::nullopt;
    }

    pem.resize(n);
    return load_pem(pem, reason);
} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}

std::optional<VapidKey>
VapidKey::load_pem(std::string_view pem, std::string &reason)
try {
    if (pem.find("ENCRYPTED") != std::string_view::npos) {
        reason = "encrypted private keys are not supported";
        return std::nullopt;
    }

    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    if (!bio) {
        reason = ossl_failure("BIO_new_mem_buf() failed");
        return std::nullopt;
    }

    PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase,
                                         nullptr));
    if (!pkey) {
        ossl_clear_errors();
        reason = "not a PEM private key";
        return std::nullopt;
    }

    if (!EVP_PKEY_is_a(pkey.get(), "EC")) {
        const char *type = EVP_PKEY_get0_type_name(pkey.get());
        reason = std::string("not a P-256 key (")
                 + (type != nullptr ? type : "unknown type") + " key)";
        return std::nullopt;
    }

    char group[80];
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey.get(),
                                       OSSL_PKEY_PARAM_GROUP_NAME, group,
                                       sizeof(group), &len)
        != 1)
    {
        ossl_clear_errors();
        reason = "not a P-256 key (explicit curve parameters)";
        return std::nullopt;
    }

    if (!is_p256_name(std::string_view(group, len))) {
        reason = "not a P-256 key (curve " + std::string(group, len) + ")";
        return std::nullopt;
    }

    // Catches a SEC1 file whose stored public key does not belong to its
    // private key, which would make every JWT we sign unverifiable.
    PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(),
                                                nullptr));
    if (!check || EVP_PKEY_check(check.get()) != 1) {
        reason = ossl_failure("invalid P-256 private key");
        return std::nullopt;
    }

    VapidKey key;
    if (!export_public(pkey.get(), key.public_)) {
        reason = ossl_failure("cannot derive the public key");
        return std::nullopt;
    }

    key.public_b64u_ = base64url_encode(key.public_.data(),
                                        key.public_.size());
    key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
    return key;
} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}

bool
validate_subject(std::string_view subject, std::string &reason)
try {
    if (subject.empty()) {
        reason = "is empty";
        return false;
    }

    for (char c : subject) {
        auto u = static_cast<unsigned char>(c);

        if (u == ' ') {
            reason = "contains a space";
            return false;
        }
        if (u < 0x20 || u == 0x7f) {
            reason = "contains a control character";
            return false;
        }
        if (u >= 0x80) {
            reason = "contains a non-ASCII character (percent-encode it)";
            return false;
        }
        if (u == '<' || u == '>') {
            reason = "contains an angle bracket";
            return false;
        }
    }

    if (starts_with_ci(subject, "mailto:")) {
        return check_mailto(subject.substr(7), reason);
    }

    if (starts_with_ci(subject, "https:")) {
        return check_https(subject.substr(6), reason);
    }

    reason = "must start with \"mailto:\" or \"https:\"";
    return false;
} catch (...) {
    return out_of_memory(reason);
}

bool
SubscriptionKeys::decode(std::string_view p256dh_b64,
                         std::string_view auth_b64, std::string &reason)
{
    std::optional<Bytes> point = base64_decode(p256dh_b64);
    if (!point) {
        reason = "p256dh is not valid base64";
        return false;
    }

    if (point->size() != p256dh.size() || (*point)[0] != 0x04) {
        reason = "p256dh is not a 65-byte uncompressed P-256 point";
        return false;
    }

    std::optional<Bytes> secret = base64_decode(auth_b64);
    if (!secret) {
        reason = "auth is not valid base64";
        return false;
    }

    if (secret->size() != auth.size()) {
        reason = "auth must be 16 bytes (got " + std::to_string(secret->size())
                 + ")";
        return false;
    }

    std::copy(point->begin(), point->end(), p256dh.begin());
    std::copy(secret->begin(), secret->end(), auth.begin());
    return true;
}

bool
SubscriptionKeys::check(std::string_view p256dh, std::string_view auth,
                        std::string &reason)
try {
    SubscriptionKeys keys;

    if (!keys.decode(p256dh, auth, reason)) {
        return false;
    }

    // EC_POINT_oct2point() refuses points off the curve, as parse() does
    // through the key manager, on a group and point made once per thread.
    struct Curve {
        EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
        EC_POINT *point = group ? EC_POINT_new(group) : nullptr;
        ~Curve() { EC_POINT_free(point); EC_GROUP_free(group); }
    };
    thread_local Curve curve;

    if (curve.point == nullptr) {
        reason = ossl_failure("cannot create a P-256 point");
        return false;
    }

    if (EC_POINT_oct2point(curve.group, curve.point, keys.p256dh.data(),
                           keys.p256dh.size(), nullptr)
        != 1)
    {
        ossl_clear_errors();
        reason = "p256dh is not on the P-256 curve";
        return false;
    }

    return true;
} catch (...) {
    out_of_memory(reason);
    return false;
}

std::optional<SubscriptionKeys>
SubscriptionKeys::parse(std::string_view p256dh, std::string_view auth,
                        std::string &reason)
try {
    SubscriptionKeys keys;

    if (!keys.decode(p256dh, auth, reason)) {
        return std::nullopt;
    }

    EVP_PKEY *tmpl = p256_template();
    PkeyPtr pkey(tmpl != nullptr ? EVP_PKEY_dup(tmpl) : nullptr);
    if (!pkey) {
        reason = ossl_failure("cannot create a P-256 key");
        return std::nullopt;
    }

    // The EC key manager decodes the point with EC_POINT_oct2point(),
    // which refuses points that are not on the curve; that check is what
    // lets encryption skip the costlier full peer validation later.
    if (EVP_PKEY_set1_encoded_public_key(pkey.get(), keys.p256dh.data(),
                                         keys.p256dh.size())
        != 1)
    {
        ossl_clear_errors();
        reason = "p256dh is not on the P-256 curve";
        return std::nullopt;
    }

    keys.pkey = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
    return keys;
} catch (...) {
    out_of_memory(reason);
    return std::nullopt;
}

}  // namespace webpush::crypto
