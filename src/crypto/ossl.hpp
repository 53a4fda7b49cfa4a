// RAII owners for OpenSSL objects used by src/crypto.
//
// Every OpenSSL object this code creates is held by one of these, so that
// each early "return false" path frees what it allocated.

#ifndef WEBPUSH_CRYPTO_OSSL_HPP
#define WEBPUSH_CRYPTO_OSSL_HPP

#include <memory>
#include <string>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

namespace webpush::crypto {

template <typename T, void (*Free)(T *)>
struct OsslDeleter {
    void operator()(T *p) const noexcept { Free(p); }
};

template <typename T, void (*Free)(T *)>
using OsslPtr = std::unique_ptr<T, OsslDeleter<T, Free>>;

using PkeyPtr = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using PkeyCtxPtr = OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using CipherCtxPtr = OsslPtr<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using CipherPtr = OsslPtr<EVP_CIPHER, EVP_CIPHER_free>;
using MdCtxPtr = OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free>;
using MacPtr = OsslPtr<EVP_MAC, EVP_MAC_free>;
using MacCtxPtr = OsslPtr<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using BioPtr = OsslPtr<BIO, BIO_free_all>;
using BnPtr = OsslPtr<BIGNUM, BN_free>;
using BnCtxPtr = OsslPtr<BN_CTX, BN_CTX_free>;
using EcGroupPtr = OsslPtr<EC_GROUP, EC_GROUP_free>;
using EcPointPtr = OsslPtr<EC_POINT, EC_POINT_free>;
using EcdsaSigPtr = OsslPtr<ECDSA_SIG, ECDSA_SIG_free>;
using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;

// Empties OpenSSL's per-thread error queue and returns "what: <first error
// reason>" (or just "what" when the queue was empty).  Draining matters: an
// error left queued would be reported later by nginx against an unrelated
// TLS connection.
std::string ossl_failure(const char *what);

// Empties the error queue (after an expected failure, e.g. a PEM probe).
void ossl_clear_errors();

// Public functions of src/crypto are function-try-blocks ending in
// "catch (...) { return out_of_memory(reason); }": std::bad_alloc is the
// only exception the code can meet, and it must not unwind into nginx's C
// frames.  Sets reason (short enough not to allocate) and returns false.
bool out_of_memory(std::string &reason) noexcept;

}  // namespace webpush::crypto

#endif
