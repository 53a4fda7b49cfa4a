// webpush_crypto_tool: command-line access to src/crypto for tests that check
// its output with an independent implementation (t/node/crypto_oracle.js).
//
//   webpush_crypto_tool encrypt --p256dh B64 --auth B64
//                  [--encoding aes128gcm|aesgcm] [--pad N]  < plaintext
//       -> {"encoding":..,"body":<b64u>[,"salt":..,"dh":..]}
//   webpush_crypto_tool jwt --key FILE --aud ORIGIN --sub SUBJECT [--now SECS]
//       -> {"jwt":..,"exp":..,"authorization":..,"webpush_authorization":..,
//           "crypto_key":..,"publicKey":..}
//
// Exit status: 0 success, 1 rejected input or crypto failure (reason on
// stderr), 2 usage error.

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <iterator>
#include <map>
#include <string>

#include <jansson.h>

#include "crypto/base64.hpp"
#include "crypto/ece.hpp"
#include "crypto/keys.hpp"
#include "crypto/vapid.hpp"

using namespace webpush::crypto;

namespace {

int
usage(const std::string &msg)
{
    std::cerr << "webpush_crypto_tool: " << msg << "\n"
              << "usage: webpush_crypto_tool encrypt --p256dh B64 --auth B64 "
                 "[--encoding aes128gcm|aesgcm] [--pad N] < plaintext\n"
              << "       webpush_crypto_tool jwt --key FILE --aud ORIGIN "
                 "--sub SUBJECT [--now SECONDS]\n";
    return 2;
}

int
fail(const std::string &reason)
{
    std::cerr << "webpush_crypto_tool: " << reason << "\n";
    return 1;
}

// Prints a JSON object and frees it.
int
print(json_t *obj)
{
    if (obj == nullptr) {
        return fail("cannot build JSON output");
    }
    char *text = json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (text == nullptr) {
        return fail("cannot serialise JSON output");
    }
    std::cout << text << "\n";
    std::free(text);
    return 0;
}

bool
parse_number(const std::string &s, long long &out)
{
    char *end = nullptr;
    errno = 0;
    out = std::strtoll(s.c_str(), &end, 10);
    return !s.empty() && *end == '\0' && errno == 0;
}

int
cmd_encrypt(std::map<std::string, std::string> &opt)
{
    if (!opt.count("p256dh") || !opt.count("auth")) {
        return usage("encrypt needs --p256dh and --auth");
    }

    ContentEncoding encoding = ContentEncoding::aes128gcm;
    std::string name = opt.count("encoding") ? opt["encoding"] : "aes128gcm";
    if (name == "aesgcm") {
        encoding = ContentEncoding::aesgcm;
    } else if (name != "aes128gcm") {
        return usage("unknown encoding \"" + name + "\"");
    }

    long long pad = 0;
    if (opt.count("pad") && (!parse_number(opt["pad"], pad) || pad < 0)) {
        return usage("bad --pad");
    }

    std::string reason;
    auto ua = SubscriptionKeys::parse(opt["p256dh"], opt["auth"], reason);
    if (!ua) {
        return fail(reason);
    }

    std::string plaintext((std::istreambuf_iterator<char>(std::cin)),
                          std::istreambuf_iterator<char>());

    auto enc = Encryptor::create(reason);
    EncryptedMessage m;
    if (!enc
        || !enc->encrypt(encoding, *ua, plaintext, static_cast<size_t>(pad),
                         m, reason))
    {
        return fail(reason);
    }

    std::string body = base64url_encode(m.body);
    if (encoding == ContentEncoding::aes128gcm) {
        return print(json_pack("{s:s, s:s}", "encoding", name.c_str(), "body",
                               body.c_str()));
    }

    return print(json_pack("{s:s, s:s, s:s, s:s}", "encoding", name.c_str(),
                           "body", body.c_str(), "salt", m.salt.c_str(),
                           "dh", m.dh.c_str()));
}

int
cmd_jwt(std::map<std::string, std::string> &opt)
{
    if (!opt.count("key") || !opt.count("aud") || !opt.count("sub")) {
        return usage("jwt needs --key, --aud and --sub");
    }

    long long now = static_cast<long long>(std::time(nullptr));
    if (opt.count("now") && !parse_number(opt["now"], now)) {
        return usage("bad --now");
    }

    std::string reason;
    auto key = VapidKey::load_file(opt["key"], reason);
    if (!key) {
        return fail(reason);
    }

    if (!validate_subject(opt["sub"], reason)) {
        return fail("subject \"" + opt["sub"] + "\" " + reason);
    }

    VapidCache cache(*key, opt["sub"]);
    const VapidToken *t = cache.get(opt["aud"], now, reason);
    if (t == nullptr) {
        return fail(reason);
    }

    return print(json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:s}", "jwt", t->jwt.c_str(), "exp",
        static_cast<json_int_t>(t->exp), "authorization",
        t->authorization.c_str(), "webpush_authorization",
        t->webpush_authorization.c_str(), "crypto_key",
        t->crypto_key.c_str(), "publicKey",
        key->public_key_b64u().c_str()));
}

}  // namespace

int
main(int argc, char **argv)
{
    if (argc < 2) {
        return usage("no command");
    }

    std::string cmd = argv[1];
    std::map<std::string, std::string> opt;

    for (int i = 2; i < argc; i += 2) {
        std::string name = argv[i];
        if (name.rfind("--", 0) != 0 || i + 1 >= argc) {
            return usage("bad option \"" + name + "\"");
        }
        opt[name.substr(2)] = argv[i + 1];
    }

    if (cmd == "encrypt") {
        return cmd_encrypt(opt);
    }
    if (cmd == "jwt") {
        return cmd_jwt(opt);
    }
    return usage("unknown command \"" + cmd + "\"");
}
